resource "a" "b" {
  lifecycle {}
  lifecycle {}
}
