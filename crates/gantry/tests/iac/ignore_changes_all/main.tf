resource "random_string" "s" {
  length  = 10
  special = false
  keepers = {
    k = "one"
  }

  lifecycle {
    ignore_changes = all
  }
}
