resource "a" "b" {
  provisioner "local-exec" {
    command = "echo hi"
  }
}
