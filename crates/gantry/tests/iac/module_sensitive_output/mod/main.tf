variable "token" {
  type      = string
  sensitive = true
}

output "token" {
  value     = "Bearer ${var.token}"
  sensitive = true
}

output "public" {
  value = "visible"
}
