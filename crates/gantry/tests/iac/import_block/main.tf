import {
  to = random_id.imported
  id = "AAECAwQFBgc"
}

resource "random_id" "imported" {
  byte_length = 8
}

import {
  to = terraform_data.imported
  id = "fixed-id"
}

resource "terraform_data" "imported" {
}

output "hex" {
  value = random_id.imported.hex
}
