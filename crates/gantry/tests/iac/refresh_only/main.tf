resource "local_file" "f" {
  filename = "${path.module}/f.txt"
  content  = "content"
}

resource "terraform_data" "t" {
  input = "t"
}
