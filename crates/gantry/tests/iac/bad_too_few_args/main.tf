output "o" {
  value = substr("x")
}
