module "gen" {
  source = "./gen"
}

resource "terraform_data" "consumer" {
  input = {
    id    = module.gen.id
    fixed = module.gen.fixed
  }
}

output "id" {
  value = module.gen.id
}
