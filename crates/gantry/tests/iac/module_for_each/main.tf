module "svc" {
  for_each = {
    api    = 8080
    worker = 9090
  }
  source = "./modules/svc"
  name   = each.key
  port   = each.value
}

output "endpoints" {
  value = { for k, m in module.svc : k => m.endpoint }
}
