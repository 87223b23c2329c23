variable "x" {
  default = {
    a = [1, upper("x")]
  }
}
