resource "terraform_data" "first" {
  input = "first"
}

resource "terraform_data" "second" {
  input      = "second"
  depends_on = [terraform_data.first]
}

resource "null_resource" "third" {
  depends_on = [terraform_data.second, module.m]
}

module "m" {
  source = "./m"
}

output "order" {
  value      = "done"
  depends_on = [null_resource.third]
}
