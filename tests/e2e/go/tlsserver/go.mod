module whoclosed/e2e/tlsserver

go 1.19
