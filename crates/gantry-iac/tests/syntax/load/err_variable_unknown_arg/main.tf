variable "x" {
  typ = string
}
