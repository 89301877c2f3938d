// The client of the classic case (see shared/reference): a Transport with
// DisableKeepAlives, so every request asks "Connection: close" on a new
// connection. -keepalive turns that off to reuse one connection instead;
// -close-idle then closes that connection itself before exiting, so that
// the close is the client's choice rather than a side effect of its exit.
//
// On loopback the response arrives at once, and the client's transport,
// which closes the connection as soon as the body is read, races the
// server's close (it wins in 5-45% of connections here). The blog's client
// was across a network: -read-delay stands in for that distance, so the
// server's FIN always goes out first, as in the blog.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8081/", "URL to GET")
	count := flag.Int("n", 20, "number of requests")
	pause := flag.Duration("sleep", 50*time.Millisecond, "pause between requests")
	readDelay := flag.Duration("read-delay", 0, "pause between the response headers and reading the body")
	keepAlive := flag.Bool("keepalive", false, "reuse connections (the Transport default) instead of DisableKeepAlives")
	closeIdle := flag.Bool("close-idle", false, "after the last request, close idle connections and linger 300ms before exiting")
	flag.Parse()

	tr := &http.Transport{DisableKeepAlives: !*keepAlive}
	client := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	for i := 0; i < *count; i++ {
		if err := get(client, *url, *readDelay); err != nil {
			fmt.Fprintf(os.Stderr, "request %d: %v\n", i, err)
			os.Exit(1)
		}
		if i+1 < *count {
			time.Sleep(*pause)
		}
	}
	if *closeIdle {
		// Closes what is idle now and, as closeIdle stays set, a connection
		// the transport hands back later: the FIN goes out from a live process.
		tr.CloseIdleConnections()
		time.Sleep(300 * time.Millisecond)
	}
}

func get(client *http.Client, url string, readDelay time.Duration) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	time.Sleep(readDelay)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if string(body) != "ok" {
		return fmt.Errorf("unexpected body %q", body)
	}
	return nil
}
