locals {
  script = <<EOT
  keep   this    spacing
    exactly=as  is
EOT
  other = 1
}
