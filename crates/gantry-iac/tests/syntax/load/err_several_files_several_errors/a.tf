variable "x" {
  bogus = 1
}
