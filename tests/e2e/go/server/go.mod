module whoclosed/e2e/server

go 1.19
