terraform {}
locals {}
