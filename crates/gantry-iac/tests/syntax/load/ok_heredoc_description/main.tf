variable "x" {
  description = <<-EOT
    Multi-line
    description
  EOT
}
