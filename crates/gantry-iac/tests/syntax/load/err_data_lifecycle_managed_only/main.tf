data "a" "b" {
  lifecycle {
    create_before_destroy = true
  }
}
