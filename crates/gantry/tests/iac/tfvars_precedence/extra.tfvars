e = "var-file"
f = "var-file"
