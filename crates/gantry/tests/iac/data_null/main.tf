resource "random_id" "r" {
  byte_length = 8
}

data "null_data_source" "known" {
  inputs = {
    a = "alpha"
  }
}

data "null_data_source" "unknown" {
  inputs = {
    hex = random_id.r.hex
  }
}

output "known" {
  value = data.null_data_source.known.outputs["a"]
}

output "unknown" {
  value = data.null_data_source.unknown.outputs["hex"]
}
