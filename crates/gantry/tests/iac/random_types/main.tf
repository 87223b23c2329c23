resource "random_string" "s" {
  length  = 16
  special = false
}

resource "random_password" "p" {
  length = 20
}

resource "random_pet" "pet" {
  length    = 3
  separator = "_"
  prefix    = "pet"
}

resource "random_integer" "port" {
  min = 10000
  max = 10000
}

resource "random_uuid" "u" {
}

resource "random_shuffle" "one" {
  input        = ["only"]
  result_count = 1
}

output "lengths" {
  value = [length(random_string.s.result), length(nonsensitive(random_password.p.result))]
}

output "pet_parts" {
  value = length(split("_", random_pet.pet.id))
}

output "port" {
  value = random_integer.port.result
}

output "password" {
  value     = random_password.p.result
  sensitive = true
}

output "shuffled" {
  value = random_shuffle.one.result
}
