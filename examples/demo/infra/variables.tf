variable "env" {
  type        = string
  description = "Deployment environment"
  default     = "demo"

  validation {
    condition     = contains(["demo", "staging", "prod"], var.env)
    error_message = "The env must be one of demo, staging or prod."
  }
}
