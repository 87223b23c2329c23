module "bucket" {
  count  = 2
  source = "./modules/bucket"
  name   = "bucket-${count.index}"
}

output "names" {
  value = module.bucket[*].name
}
