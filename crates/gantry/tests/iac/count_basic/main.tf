resource "null_resource" "web" {
  count = 3

  triggers = {
    index = count.index
    name  = "web-${count.index}"
  }
}

output "ids_count" {
  value = length(null_resource.web)
}
