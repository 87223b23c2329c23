resource "aws_frobnicator" "web" {
  ami = "ami-123"
}
