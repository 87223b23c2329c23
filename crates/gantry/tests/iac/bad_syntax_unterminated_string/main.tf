locals {
  name = "unterminated
}
