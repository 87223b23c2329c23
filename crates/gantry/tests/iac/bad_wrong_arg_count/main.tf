output "o" {
  value = join(",")
}
