resource "terraform_data" "keep" {
  input = "keep"
}
