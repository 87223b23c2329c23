locals {
  m = {
    "a" = 1
    "long-key" = 2
  }
}
