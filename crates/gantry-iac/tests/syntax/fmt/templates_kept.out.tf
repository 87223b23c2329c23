locals {
  s = "hello ${var.name}!  %{if true}x%{endif}"
  t = "a\"b"
}
