locals {
  plain    = <<EOT
line one
  indented line
EOT
  indented = <<-EOT
      first
        second
      third
  EOT
  escaped  = "tab\tquote\" dollar $${literal} percent %%{literal}"
}

resource "local_file" "doc" {
  filename = "${path.module}/doc.txt"
  content  = local.plain
}

output "plain" {
  value = local.plain
}

output "indented" {
  value = local.indented
}

output "escaped" {
  value = local.escaped
}
