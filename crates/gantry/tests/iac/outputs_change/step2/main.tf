output "kept" {
  value = "same"
}

output "changed" {
  value = "after"
}

output "added" {
  value = { k = 1 }
}
