resource "random_id" "x" {
  byte_length = 8
  count       = 2
  provider    = random.other
  depends_on  = [null_resource.a, module.m]
  keepers = {
    a = "b"
  }
  dynamic "thing" {
    for_each = []
    content {}
  }
  lifecycle {
    create_before_destroy = true
    prevent_destroy       = false
    ignore_changes        = [keepers["a"], tags.Name, list[0]]
    replace_triggered_by  = [null_resource.a.id]
    precondition {
      condition     = true
      error_message = "pre"
    }
    postcondition {
      condition     = self.id != ""
      error_message = "post"
    }
  }
}

resource "null_resource" "a" {
  for_each = toset(["a", "b"])
  lifecycle {
    ignore_changes = all
  }
}

data "local_file" "f" {
  filename = "x.txt"
  provider = local
  lifecycle {
    postcondition {
      condition     = self.content != ""
      error_message = "empty"
    }
  }
}
