variable "users" {
  type = list(object({
    name  = string
    admin = bool
  }))
  default = [
    { name = "ann", admin = true },
    { name = "bob", admin = false },
    { name = "cid", admin = true },
  ]
}

locals {
  admins  = [for u in var.users : upper(u.name) if u.admin]
  by_name = { for u in var.users : u.name => u.admin }
  grouped = { for u in var.users : (u.admin ? "admin" : "user") => u.name... }
  indexed = [for i, u in var.users : "${i}:${u.name}"]
}

resource "terraform_data" "admins" {
  input = local.admins
}

output "admins" {
  value = local.admins
}

output "by_name" {
  value = local.by_name
}

output "grouped" {
  value = local.grouped
}

output "indexed" {
  value = local.indexed
}
