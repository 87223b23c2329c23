resource "random_id" "new" {
  byte_length = 8
}

moved {
  from = random_id.old
  to   = random_id.new
}

resource "null_resource" "list" {
  for_each = toset(["only"])
}

moved {
  from = null_resource.list[0]
  to   = null_resource.list["only"]
}

output "hex_len" {
  value = length(random_id.new.hex)
}
