variable "a" {
  type    = string
  default = "default"
}
variable "b" {
  type    = string
  default = "default"
}
variable "c" {
  type    = string
  default = "default"
}
variable "d" {
  type    = string
  default = "default"
}
variable "e" {
  type    = string
  default = "default"
}
variable "f" {
  type    = string
  default = "default"
}

resource "terraform_data" "all" {
  input = [var.a, var.b, var.c, var.d, var.e, var.f]
}

output "values" {
  value = {
    a = var.a
    b = var.b
    c = var.c
    d = var.d
    e = var.e
    f = var.f
  }
}
