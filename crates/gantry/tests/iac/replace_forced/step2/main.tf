resource "local_file" "f" {
  filename = "${path.module}/f.txt"
  content  = "version two"
}
