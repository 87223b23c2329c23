resource "a" "b" "c" {
}
