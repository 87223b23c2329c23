check "x" {
}
