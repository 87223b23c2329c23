# A data source whose arguments change between applies: the resource
# built from it gets the value read for the new arguments.
variable "which" {
  type    = string
  default = "a"
}

data "local_file" "src" {
  filename = "${path.module}/${var.which}.txt"
}

resource "terraform_data" "copy" {
  input = trimspace(data.local_file.src.content)
}

output "copied" {
  value = terraform_data.copy.output
}
