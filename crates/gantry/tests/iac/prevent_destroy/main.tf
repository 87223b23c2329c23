resource "terraform_data" "keep" {
  input = "v1"

  lifecycle {
    prevent_destroy = true
  }
}
