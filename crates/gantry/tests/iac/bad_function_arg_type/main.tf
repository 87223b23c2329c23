output "upper" {
  value = upper(["not", "a", "string"])
}
