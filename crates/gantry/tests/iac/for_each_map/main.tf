variable "servers" {
  type = map(number)
  default = {
    api = 8
    web = 4
  }
}

resource "random_id" "server" {
  for_each    = var.servers
  byte_length = each.value
  keepers = {
    name = each.key
  }
}

output "lengths" {
  value = { for k, v in random_id.server : k => v.byte_length }
}
