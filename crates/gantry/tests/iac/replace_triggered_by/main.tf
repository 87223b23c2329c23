resource "terraform_data" "version" {
  input = "v1"
}

resource "random_id" "dependent" {
  byte_length = 8

  lifecycle {
    replace_triggered_by = [terraform_data.version]
  }
}
