variable "numbers" {
  type    = list(number)
  default = ["1", "2", 3]
}

variable "flags" {
  type    = set(string)
  default = ["b", "a", "b"]
}

variable "obj" {
  type = object({
    n = number
    b = bool
  })
  default = {
    n = "42"
    b = "true"
    ignored = "dropped"
  }
}

resource "terraform_data" "t" {
  input = {
    numbers = var.numbers
    flags   = var.flags
    obj     = var.obj
  }
}

output "sum" {
  value = sum(var.numbers)
}

output "flags" {
  value = var.flags
}

output "obj" {
  value = var.obj
}

output "conversions" {
  value = [tostring(5), tonumber("2.5"), tobool("false"), tolist(toset(["z", "y"])), tomap({ a = 1 })]
}
