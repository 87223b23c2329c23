resource "random_string" "s" {
  length  = 12
  special = false
}

output "len" {
  value = length(random_string.s.result)
}
