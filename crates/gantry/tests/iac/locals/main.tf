locals {
  project = "gantry"
  env     = "dev"
  prefix  = "${local.project}-${local.env}"
  names   = [for n in ["api", "db"] : "${local.prefix}-${n}"]
  tags = merge(
    { project = local.project },
    { env = local.env },
  )
}

locals {
  count_names = length(local.names)
}

resource "terraform_data" "tagged" {
  for_each = toset(local.names)
  input    = merge(local.tags, { name = each.value })
}

output "names" {
  value = local.names
}

output "count_names" {
  value = local.count_names
}
