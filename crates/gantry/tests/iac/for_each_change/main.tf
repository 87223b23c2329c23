locals {
  envs = {
    dev  = "small"
    prod = "large"
  }
}

resource "terraform_data" "env" {
  for_each = local.envs
  input    = each.value
}
