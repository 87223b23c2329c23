resorce "a" "b" {
}
