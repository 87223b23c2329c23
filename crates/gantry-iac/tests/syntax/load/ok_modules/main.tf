module "net" {
  source = "./modules/net"
  count  = 1
  cidr   = "10.0.0.0/16"
  providers = {
    aws       = aws.west
    aws.other = aws
  }
  depends_on = [random_id.x]
}

module "reg" {
  source   = "hashicorp/consul/aws"
  version  = "0.1.0"
  for_each = var.m
  name     = each.key
}
