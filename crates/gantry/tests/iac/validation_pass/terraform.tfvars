name = "api-1"
