resource "terraform_data" "cfg" {
  input = {
    replicas = 2
    image    = "app:1.0"
    ports    = [80, 443]
  }
}
