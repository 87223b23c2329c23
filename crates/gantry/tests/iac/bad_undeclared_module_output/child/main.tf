output "something" {
  value = "here"
}
