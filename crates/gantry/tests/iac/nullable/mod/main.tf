variable "region" {
  type     = string
  default  = "eu-west-1"
  nullable = false
}

variable "zone" {
  type    = string
  default = "a"
}

variable "optional" {
  type     = string
  default  = null
  nullable = true
}

resource "terraform_data" "r" {
  input = "${var.region}/${coalesce(var.zone, "none")}"
}

output "region" {
  value = var.region
}

output "zone_is_null" {
  value = var.zone == null && var.optional == null
}
