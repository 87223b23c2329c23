module "m" {
  source   = "./m"
  count    = 2
  for_each = {}
}
