resource "null_resource" "a" {
  for_each = ["x", "y"]
}
