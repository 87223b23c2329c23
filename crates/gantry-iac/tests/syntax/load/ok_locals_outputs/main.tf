locals {
  a = 1
  b = "${local.a}-x"
}

locals {
  c = [for x in range(3) : x * 2]
}

output "a" {
  value       = local.a
  description = "the a"
  sensitive   = true
  depends_on  = [random_id.x]
  precondition {
    condition     = local.a > 0
    error_message = "a must be positive"
  }
}

output "b" {
  value = local.b
}
