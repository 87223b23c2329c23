resource "a" "b" {
  depends_on = [lookup(x, "y")]
}
