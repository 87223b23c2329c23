variable "token" {
  type      = string
  sensitive = true
  default   = "first-token"
}

resource "terraform_data" "app" {
  input = {
    name  = "app"
    token = var.token
  }
}

resource "null_resource" "hashed" {
  triggers = {
    digest = sha256(var.token)
  }
}
