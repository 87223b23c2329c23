resource "null_resource" "a" {
  dynamic "setting" {
    for_each = ["a", "b"]
    content {
      name = setting.value
    }
  }
}
