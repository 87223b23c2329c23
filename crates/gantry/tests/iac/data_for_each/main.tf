data "local_file" "f" {
  for_each = toset(["a.txt", "b.txt"])
  filename = "${path.module}/files/${each.key}"
}

output "contents" {
  value = { for k, f in data.local_file.f : k => trimspace(f.content) }
}
