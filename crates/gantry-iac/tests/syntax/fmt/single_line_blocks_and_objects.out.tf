variable "x" {}
locals { a = { b = 1, c = "d" } }
resource "a" "b" {
  tags = {}
}
