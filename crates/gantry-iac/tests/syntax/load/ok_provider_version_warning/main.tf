provider "aws" {
  version = "~> 2.0"
  region  = "eu-west-1"
}
