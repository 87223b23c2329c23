resource "random_string" "s" {
  length  = 20
  special = true
  keepers = {
    k = "two"
  }

  lifecycle {
    ignore_changes = all
  }
}
