terraform {
  required_version = var.v
}
