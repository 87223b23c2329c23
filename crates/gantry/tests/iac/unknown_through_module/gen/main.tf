resource "random_id" "r" {
  byte_length = 8
  prefix      = "gen-"
}

output "id" {
  value = random_id.r.hex
}

output "fixed" {
  value = "fixed"
}
