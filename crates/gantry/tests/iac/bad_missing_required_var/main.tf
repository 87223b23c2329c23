variable "name" {
  type        = string
  description = "the name of the service"
}

resource "terraform_data" "a" {
  input = var.name
}
