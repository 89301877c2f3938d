module whoclosed/e2e/tlsclient

go 1.19
