variable "count_n" {
  type = number
}

variable "tags" {
  type = map(string)
}

variable "list" {
  type = list(string)
}

resource "null_resource" "n" {
  count    = var.count_n
  triggers = var.tags
}

output "list" {
  value = var.list
}
