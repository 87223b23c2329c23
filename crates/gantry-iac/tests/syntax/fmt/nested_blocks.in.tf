resource "a" "b" {
lifecycle {
ignore_changes = [tags]
precondition {
condition = true
error_message = "x"
}
}
}
