resource "a" "b" {
  count    = 1
  for_each = {}
}
