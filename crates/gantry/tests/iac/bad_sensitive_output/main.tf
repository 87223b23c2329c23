variable "secret" {
  type      = string
  default   = "s3cret"
  sensitive = true
}

output "leak" {
  value = "token: ${var.secret}"
}
