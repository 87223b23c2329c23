locals {
  rules = [{
    port        = 80
    cidr_blocks = ["0.0.0.0/0"]
    }, {
    port = 443
  }]
}
