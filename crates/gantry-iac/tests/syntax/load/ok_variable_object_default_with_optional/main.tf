variable "o" {
  type = object({
    name = string
    port = optional(number, 80)
  })
  default = { name = "x" }
}
