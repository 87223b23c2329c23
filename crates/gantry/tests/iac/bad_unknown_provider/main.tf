resource "google_compute_instance" "web" {
  name = "web"
}
