resource "terraform_data" "keep" {
  input            = "v1"
  triggers_replace = ["force"]

  lifecycle {
    prevent_destroy = true
  }
}
