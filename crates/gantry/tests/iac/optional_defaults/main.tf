variable "service" {
  type = object({
    name     = string
    port     = optional(number, 80)
    tags     = optional(map(string), {})
    replicas = optional(number)
    health = optional(object({
      path     = optional(string, "/healthz")
      interval = optional(number, 30)
    }), {})
  })
  default = {
    name = "web"
  }
}

resource "terraform_data" "svc" {
  input = var.service
}

output "service" {
  value = var.service
}
