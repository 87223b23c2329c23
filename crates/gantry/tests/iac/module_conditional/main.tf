variable "with_extra" {
  type    = bool
  default = false
}

module "always" {
  source = "./mod"
  name   = "always"
}

module "extra" {
  count  = var.with_extra ? 1 : 0
  source = "./mod"
  name   = "extra"
}

output "extra_names" {
  value = module.extra[*].name
}
