# A small stack that runs anywhere: no cloud account needed. Each service
# gets a random suffix, an instance count and a rendered config file.

terraform {
  required_providers {
    random = {
      source = "hashicorp/random"
    }
    local = {
      source = "hashicorp/local"
    }
  }
}

locals {
  services = {
    api    = { port = 8080, replicas = 2 }
    worker = { port = 9090, replicas = 1 }
  }
}

module "service" {
  source   = "./modules/service"
  for_each = local.services

  name     = each.key
  port     = each.value.port
  replicas = each.value.replicas
  env      = var.env
}

resource "null_resource" "release" {
  triggers = {
    services = join(",", sort([for k, m in module.service : m.hostname]))
  }
}

resource "random_password" "db" {
  length  = 24
  special = false
}
