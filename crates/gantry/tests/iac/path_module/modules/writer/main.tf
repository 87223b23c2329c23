resource "local_file" "inside" {
  filename = "${path.module}/inside.txt"
  content  = file("${path.module}/data.txt")
}

output "where" {
  value = path.module
}
