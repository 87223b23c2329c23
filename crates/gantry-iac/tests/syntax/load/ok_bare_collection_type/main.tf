variable "l" {
  type = list
}

variable "m" {
  type    = map
  default = { a = 1 }
}
