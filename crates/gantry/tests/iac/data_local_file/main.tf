data "local_file" "static" {
  filename = "${path.module}/input.txt"
}

resource "local_file" "generated" {
  filename = "${path.module}/generated.txt"
  content  = "copied: ${data.local_file.static.content}"
}

data "local_file" "after" {
  filename = local_file.generated.filename
}

output "static" {
  value = data.local_file.static.content
}

output "after" {
  value = data.local_file.after.content
}
