resource "terraform_data" {
  input = "missing name label"
}
