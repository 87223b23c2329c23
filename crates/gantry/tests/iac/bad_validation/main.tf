variable "port" {
  type    = number
  default = 80

  validation {
    condition     = var.port > 1024
    error_message = "The port must be above 1024."
  }
}

resource "terraform_data" "a" {
  input = var.port
}
