resource "terraform_data" "t" {
  input = {
    owner = "team-a"
    size  = 1
  }
  triggers_replace = "one"

  lifecycle {
    ignore_changes = [input]
  }
}

resource "null_resource" "n" {
  triggers = {
    a = "1"
  }

  lifecycle {
    ignore_changes = [triggers["a"]]
  }
}
