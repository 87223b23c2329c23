resource "random_id" "key" {
  byte_length = 8
  keepers = {
    version = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "terraform_data" "user" {
  input = random_id.key.hex
}
