locals {
  l = [
    "a",
    "b",
  ]
}
