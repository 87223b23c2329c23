module "writer" {
  source = "./modules/writer"
}

resource "local_file" "root" {
  filename = "${path.module}/root.txt"
  content  = "root"
}

output "module_path" {
  value = module.writer.where
}

output "root_path" {
  value = path.root
}

output "cwd_is_root" {
  value = path.cwd == abspath(path.root)
}
