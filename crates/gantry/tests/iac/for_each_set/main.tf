locals {
  names = ["gamma", "alpha", "beta", "alpha"]
}

resource "terraform_data" "item" {
  for_each = toset(local.names)
  input    = upper(each.key)
}

output "inputs" {
  value = sort([for t in terraform_data.item : t.input])
}
