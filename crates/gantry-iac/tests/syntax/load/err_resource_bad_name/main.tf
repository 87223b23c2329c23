resource "a" "1b" {
}
