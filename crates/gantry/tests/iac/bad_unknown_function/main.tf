output "o" {
  value = uppercase("x")
}
