locals {
  total = "abc" + 1
}

output "total" {
  value = local.total
}
