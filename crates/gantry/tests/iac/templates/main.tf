variable "items" {
  type    = list(string)
  default = ["one", "two", "three"]
}

variable "admin" {
  type    = bool
  default = true
}

resource "local_file" "report" {
  filename = "${path.module}/report.txt"
  content  = <<-EOT
    Items:
    %{ for i, item in var.items ~}
    - ${i}: ${item}
    %{ endfor ~}
    %{ if var.admin }admin mode%{ else }user mode%{ endif }
  EOT
}

output "inline" {
  value = "%{ for x in var.items }${x};%{ endfor }"
}

output "strip" {
  value = "a %{~ if true ~} b %{~ endif ~} c"
}
