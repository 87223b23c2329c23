output "ids" {
  value = aws_instance.web[*].id
  first = aws_instance.web [0].id
  legacy = aws_instance.web.*.id
  m = var.m [ "k" ]
}
