variable "x" {
  type = map(list)
}
