variable "n" {
  default = 3
}

resource "terraform_data" "node" {
  count = var.n
  input = "node-${count.index}"
}
