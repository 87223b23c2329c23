variable "buckets" {
  type = map(object({
    versioned = bool
    tags      = map(string)
  }))
  default = {
    logs = {
      versioned = false
      tags      = { purpose = "logging" }
    }
    assets = {
      versioned = true
      tags      = { purpose = "static", cdn = "yes" }
    }
  }
}

resource "null_resource" "bucket" {
  for_each = var.buckets
  triggers = merge(each.value.tags, {
    name      = each.key
    versioned = tostring(each.value.versioned)
  })
}

output "keys" {
  value = keys(null_resource.bucket)
}
