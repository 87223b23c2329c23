variable "replicas" {
  type = number
}

resource "terraform_data" "a" {
  input = var.replicas
}
