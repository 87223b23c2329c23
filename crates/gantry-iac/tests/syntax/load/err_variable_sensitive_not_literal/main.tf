variable "x" {
  sensitive = var.y
}
