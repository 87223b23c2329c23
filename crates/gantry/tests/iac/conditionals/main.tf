variable "enabled" {
  type    = bool
  default = false
}

variable "env" {
  type    = string
  default = "prod"
}

resource "null_resource" "optional" {
  count = var.enabled ? 1 : 0
}

resource "terraform_data" "sized" {
  input = var.env == "prod" ? "large" : "small"
}

output "optional_count" {
  value = length(null_resource.optional)
}

output "size" {
  value = terraform_data.sized.output
}

output "nullish" {
  value = var.enabled ? "on" : null
}
