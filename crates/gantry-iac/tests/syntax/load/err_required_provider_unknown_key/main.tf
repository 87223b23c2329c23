terraform {
  required_providers {
    aws = { source = "hashicorp/aws", versoin = "1.0" }
  }
}
