output "subnet" {
  value = cidrsubnet("10.0.0.0/30", 8, 1)
}
