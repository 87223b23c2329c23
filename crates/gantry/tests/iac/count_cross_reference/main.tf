resource "random_id" "key" {
  count       = 2
  byte_length = 8
}

resource "null_resource" "user" {
  count = 2
  triggers = {
    key   = random_id.key[count.index].hex
    first = random_id.key[0].hex
  }
}
