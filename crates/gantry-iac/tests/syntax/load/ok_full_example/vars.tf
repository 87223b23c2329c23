variable "name" {
  type        = string
  default     = "demo"
  description = "The name"
}

variable "sizes" {
  type      = list(number)
  sensitive = true
  nullable  = false
  default   = [1, 2]
  validation {
    condition     = length(var.sizes) > 0
    error_message = "At least one size."
  }
}

variable "untyped" {}
