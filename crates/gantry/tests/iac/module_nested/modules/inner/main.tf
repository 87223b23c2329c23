variable "name" {
  type = string
}

resource "terraform_data" "marker" {
  input = var.name
}

resource "local_file" "out" {
  filename = "${path.root}/${var.name}.txt"
  content  = terraform_data.marker.input
}

output "name" {
  value = var.name
}

output "file" {
  value = basename(local_file.out.filename)
}
