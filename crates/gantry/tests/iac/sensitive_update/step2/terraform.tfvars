token = "second-token"
