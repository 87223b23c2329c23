module "m" {
  source = "${path.module}/x"
}
