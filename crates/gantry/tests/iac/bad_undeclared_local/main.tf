locals {
  known = "x"
}

output "o" {
  value = local.unknown_name
}
