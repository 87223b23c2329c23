provider "random" {}

provider "random" {
  alias = "second"
}

resource "random_id" "default" {
  byte_length = 8
}

resource "random_id" "aliased" {
  provider    = random.second
  byte_length = 8
}

module "child" {
  source = "./modules/child"
  providers = {
    random = random.second
  }
}

output "child_len" {
  value = module.child.len
}
