resource "terraform_data" "t" {
  input = {
    owner = "team-b"
    size  = 2
  }
  triggers_replace = "one"

  lifecycle {
    ignore_changes = [input]
  }
}

resource "null_resource" "n" {
  triggers = {
    a = "2"
  }

  lifecycle {
    ignore_changes = [triggers["a"]]
  }
}
