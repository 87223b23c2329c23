locals {
  j = jsonencode({
    a = 1
  })
  m = merge(
    var.a,
    var.b,
  )
}
