variable "known" {
  type    = string
  default = "x"
}
