resource "terraform_data" "node" {
  count = 3
  input = "node-${count.index}"
}

locals {
  objs = [{ name = "a", tags = ["x"] }, { name = "b", tags = ["y", "z"] }]
}

output "inputs" {
  value = terraform_data.node[*].input
}

output "names" {
  value = local.objs[*].name
}

output "legacy" {
  value = local.objs.*.name
}

output "single" {
  value = local.objs[0][*].name
}
