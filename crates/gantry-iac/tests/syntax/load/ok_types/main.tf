variable "obj" {
  type = object({
    name = string
    port = optional(number, 80)
    tags = optional(map(string))
  })
}

variable "legacy" {
  type = "list"
}

variable "tup" {
  type    = tuple([string, bool])
  default = ["a", true]
}

variable "anything" {
  type    = any
  default = null
}
