variable "name" {
  type = string
}

variable "port" {
  type = number
}

variable "replicas" {
  type    = number
  default = 1
}

variable "env" {
  type = string
}

resource "random_id" "suffix" {
  byte_length = 3
  keepers = {
    name = var.name
  }
}

resource "random_pet" "replica" {
  count  = var.replicas
  prefix = var.name
}

resource "local_file" "config" {
  filename = "${path.root}/out/${var.name}.json"
  content = jsonencode({
    service  = var.name
    env      = var.env
    port     = var.port
    replicas = random_pet.replica[*].id
  })
}

output "hostname" {
  value = "${var.name}-${random_id.suffix.hex}.${var.env}.internal"
}

output "config_file" {
  value = local_file.config.filename
}
