resource "random_id" "a" {
  byte_length = 8
}

resource "terraform_data" "b" {
  input = "stays"
}
