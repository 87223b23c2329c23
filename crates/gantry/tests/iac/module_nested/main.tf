module "outer" {
  source = "./modules/outer"
  prefix = "app"
}

output "greeting" {
  value = module.outer.greeting
}

output "file_name" {
  value = module.outer.file_name
}
