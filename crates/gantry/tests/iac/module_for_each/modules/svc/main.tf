variable "name" {
  type = string
}

variable "port" {
  type = number
}

resource "terraform_data" "svc" {
  input = {
    name = var.name
    port = var.port
  }
}

output "endpoint" {
  value = "${terraform_data.svc.output.name}:${terraform_data.svc.output.port}"
}
