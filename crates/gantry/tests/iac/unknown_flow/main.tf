resource "random_id" "x" {
  byte_length = 8
}

resource "null_resource" "uses" {
  triggers = {
    hex    = random_id.x.hex
    static = "fixed"
    joined = "id-${random_id.x.hex}"
  }
}

output "hex" {
  value = random_id.x.hex
}

output "len" {
  value = length(random_id.x.hex)
}
