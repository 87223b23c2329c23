resource "terraform_data" "keep" {
  input = "keep"
}

resource "null_resource" "gone" {
  triggers = {
    a = "b"
  }
}
