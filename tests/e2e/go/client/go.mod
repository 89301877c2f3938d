module whoclosed/e2e/client

go 1.19
