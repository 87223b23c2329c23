resource "random_id" "a" {
  byte_length = 8
  bytes       = 4
}
