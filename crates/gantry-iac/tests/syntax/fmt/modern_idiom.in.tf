resource null_resource a {
  triggers = {
    id = "${var.id}"
  }
  name = "${var.name}"
  mixed = "x-${var.name}"
  neg = "${-1}"
  dynamic thing {
    for_each = []
  }
}

variable "s" {
  type = "string"
}

variable "l" {
  type = list
}

locals {
  type = "string"
  keep = "${~var.x}"
}
