terraform {
  required_version = ">= 1.5"
  required_providers {
    random = {
      source  = "hashicorp/random"
      version = "~> 3.0"
    }
    null = "~> 3.2"
    aws = {
      source = "registry.terraform.io/HashiCorp/AWS"
    }
    local = {}
  }
  backend "local" {
    path = "state.tfstate"
  }
}

provider "random" {}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
