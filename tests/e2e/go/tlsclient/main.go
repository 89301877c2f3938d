// An HTTPS client for the Go TLS uprobe tests: GETs -url -n times, one
// connection per request (DisableKeepAlives), trusting any certificate
// (the test's self-signed one, on loopback). -delay waits before the first
// request, so a tracer that found this process by its exec has attached.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	url := flag.String("url", "https://127.0.0.1:8443/", "URL to GET")
	count := flag.Int("n", 3, "number of requests")
	pause := flag.Duration("sleep", 50*time.Millisecond, "pause between requests")
	delay := flag.Duration("delay", 0, "pause before the first request")
	flag.Parse()

	tr := &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	time.Sleep(*delay)
	for i := 0; i < *count; i++ {
		if err := get(client, *url); err != nil {
			fmt.Fprintf(os.Stderr, "request %d: %v\n", i, err)
			os.Exit(1)
		}
		time.Sleep(*pause)
	}
}

func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(body) != "ok" {
		return fmt.Errorf("unexpected response %d %q", resp.StatusCode, body)
	}
	return nil
}
