# top comment
variable "x" { # trailing
  // slash comment
  type = string # why
  /* block */
  default = "a"
}
