// The server of the classic case (see shared/reference): net/http's default
// server with keep-alive on, a handler that writes "ok". Only the address
// differs: loopback and a port chosen by the test.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

func indexHandler(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("ok"))
}

func main() {
	port := flag.Int("port", 8081, "TCP port to listen on (127.0.0.1 only)")
	flag.Parse()
	// Listen, then Serve: what ListenAndServe does, split so that the
	// "listening" line the test waits for comes after the bind.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(indexHandler)))
}
