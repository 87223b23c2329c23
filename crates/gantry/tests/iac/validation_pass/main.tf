variable "port" {
  type    = number
  default = 8080

  validation {
    condition     = var.port > 1024 && var.port < 65536
    error_message = "The port must be an unprivileged port."
  }
}

variable "name" {
  type = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name))
    error_message = "The name must be lowercase letters, digits and dashes."
  }

  validation {
    condition     = length(var.name) <= 10
    error_message = "The name must be at most 10 characters."
  }
}

resource "terraform_data" "svc" {
  input = "${var.name}:${var.port}"
}
