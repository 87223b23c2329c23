resource "x" "y" {
  ami           = "a"
  instance_type = "b"
  tags = {
    Name        = "x"
    Environment = "prod"
  }
  z = 1
}
