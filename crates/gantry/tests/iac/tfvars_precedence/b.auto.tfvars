d = "b.auto"
e = "b.auto"
