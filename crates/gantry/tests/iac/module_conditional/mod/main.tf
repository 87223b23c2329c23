variable "name" {
  type = string
}

resource "null_resource" "n" {
  triggers = {
    name = var.name
  }
}

output "name" {
  value = var.name
}
