resource "a" "b" {
  connection {
    host = "x"
  }
}
