provider "aws" {
  alias = "us east"
}
