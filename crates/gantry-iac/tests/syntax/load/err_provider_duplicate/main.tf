provider "aws" {}
provider "aws" {
  alias = "b"
}
provider "aws" {
  alias = "b"
}
