resource "a" "b" {
  lifecycle {
    prevent_destroy = var.x
    unknown_thing   = 1
  }
}
