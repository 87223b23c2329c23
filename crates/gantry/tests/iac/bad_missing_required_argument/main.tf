resource "random_id" "a" {
  prefix = "x-"
}
