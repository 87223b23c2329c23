variable "x" {
  type = list(optional(string))
}
