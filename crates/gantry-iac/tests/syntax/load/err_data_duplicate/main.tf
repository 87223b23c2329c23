data "a" "b" {}
data "a" "b" {}
