resource "terraform_data" "cfg" {
  input = {
    replicas = 3
    image    = "app:1.1"
    ports    = [80, 443, 8080]
  }
}
