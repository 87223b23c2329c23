moved {
  from = a.b
}
