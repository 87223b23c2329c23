resource "a" "b" {
  provider = "aws"
}
