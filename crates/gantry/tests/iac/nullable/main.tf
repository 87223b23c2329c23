module "m" {
  source   = "./mod"
  region   = null
  zone     = null
  optional = null
}

variable "from_cli" {
  type = string
}

output "region" {
  value = module.m.region
}

output "zone_is_null" {
  value = module.m.zone_is_null
}

output "from_cli" {
  value = var.from_cli
}
