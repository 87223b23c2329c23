locals {
  a = max(1, 2) + 3 * var.x
  b = var.enabled ? "yes" : "no"
  c = [for s in var.list : upper(s) if s != ""]
  d = { for k, v in var.map : k => v... }
  e = !var.flag && var.other || false
  f = -var.n
}
