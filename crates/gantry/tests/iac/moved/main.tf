resource "random_id" "old" {
  byte_length = 8
}

resource "null_resource" "list" {
  count = 1
}
