locals {
  envs = {
    prod    = "xlarge"
    staging = "medium"
  }
}

resource "terraform_data" "env" {
  for_each = local.envs
  input    = each.value
}
