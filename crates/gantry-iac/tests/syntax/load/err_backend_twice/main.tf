terraform {
  backend "local" {}
}
terraform {
  backend "s3" {}
}
