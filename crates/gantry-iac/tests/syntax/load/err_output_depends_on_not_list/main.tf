output "o" {
  value      = 1
  depends_on = random_id.x
}
