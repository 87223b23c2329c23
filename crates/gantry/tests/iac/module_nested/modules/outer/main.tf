variable "prefix" {
  type = string
}

module "inner" {
  source = "../inner"
  name   = "${var.prefix}-inner"
}

output "greeting" {
  value = "hello from ${module.inner.name}"
}

output "file_name" {
  value = module.inner.file
}
