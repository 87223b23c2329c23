

variable "x" {}
