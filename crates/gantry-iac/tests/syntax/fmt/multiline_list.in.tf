locals {
  l = [
  "a",
      "b",
  ]
}
