resource "a" {
}
