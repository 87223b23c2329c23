variable "region" {
  type        = string
  description = "The AWS region."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "A prefix for every name, and the project tag."
  default     = "gantry-demo"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "The name must be 3-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's address range."
  default     = "10.42.0.0/16"
}
