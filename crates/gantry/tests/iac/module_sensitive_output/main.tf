module "mod" {
  source = "./mod"
  token  = "abc123"
}

resource "terraform_data" "consumer" {
  input = module.mod.token
}

output "token" {
  value     = module.mod.token
  sensitive = true
}

output "public" {
  value = module.mod.public
}
