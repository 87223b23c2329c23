locals {
  sum = 1 + * 2
}
