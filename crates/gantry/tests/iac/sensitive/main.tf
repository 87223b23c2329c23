variable "password" {
  type      = string
  sensitive = true
  default   = "hunter22"
}

resource "terraform_data" "db" {
  input = {
    user     = "admin"
    password = var.password
  }
}

resource "local_sensitive_file" "secret" {
  filename = "${path.module}/secret.txt"
  content  = "pw=${var.password}"
}

resource "local_file" "public" {
  filename = "${path.module}/public.txt"
  content  = "user=admin"
}

output "password" {
  value     = var.password
  sensitive = true
}

output "password_length" {
  value = length(nonsensitive(var.password))
}

output "user" {
  value = terraform_data.db.output.user
}
