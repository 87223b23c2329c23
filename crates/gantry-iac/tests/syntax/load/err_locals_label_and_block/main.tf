locals "x" {
}

locals {
  nested {
  }
}
