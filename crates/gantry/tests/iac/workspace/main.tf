resource "terraform_data" "ws" {
  input = "workspace=${terraform.workspace}"
}

output "workspace" {
  value = terraform.workspace
}
