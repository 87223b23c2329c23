output "kept" {
  value = "same"
}

output "changed" {
  value = "before"
}

output "removed" {
  value = ["x"]
}
