variable "region" {
  type = string
}

variable "sizes" {
  type = map(number)
}

resource "terraform_data" "t" {
  input = "${var.region}:${var.sizes["small"]}"
}
