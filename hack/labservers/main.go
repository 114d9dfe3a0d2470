// Command labservers runs the real-tools lab's servers (package
// e2e/labservers) on one TLS address: hack/lab.sh starts it.
//
//	labservers -addr 127.0.0.1:443 -state .lab/realtools -hosts github.com,registry.npmjs.org,...
//
// It keeps its CA, bare repositories and records under -state: ca.crt
// (which the real-tools image trusts), git/, seen.jsonl.
package main

import (
	"crypto/tls"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hushbuild/hushbuild/e2e/labservers"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:443", "address to listen on (TLS)")
	state := flag.String("state", "", "state directory: CA, repositories, records")
	hosts := flag.String("hosts", "", "comma-separated host names the certificate names")
	initOnly := flag.Bool("init", false, "create the CA and repositories, then exit")
	flag.Parse()
	if *state == "" {
		log.Fatal("labservers: -state is required")
	}
	if err := os.MkdirAll(filepath.Join(*state, "git"), 0o755); err != nil {
		log.Fatal(err)
	}
	ca, caKey, err := labservers.LoadOrCreateCA(*state)
	if err != nil {
		log.Fatalf("labservers: CA: %v", err)
	}
	if err := labservers.MakeRepos(filepath.Join(*state, "git")); err != nil {
		log.Fatalf("labservers: repositories: %v", err)
	}
	if *initOnly {
		return
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatalf("labservers: -addr: %v", err)
	}
	var names []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			names = append(names, h)
		}
	}
	cert, err := labservers.ServerCert(ca, caKey, names, []net.IP{net.ParseIP(host)})
	if err != nil {
		log.Fatalf("labservers: certificate: %v", err)
	}
	rec := labservers.NewRecorder(filepath.Join(*state, "seen.jsonl"))
	srv := &http.Server{
		Addr:              *addr,
		Handler:           logRequests(labservers.Handler(labservers.DefaultConfig(filepath.Join(*state, "git")), rec)),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
	}
	log.Printf("labservers: listening on https://%s for %s", *addr, strings.Join(names, ", "))
	log.Fatal(srv.ListenAndServeTLS("", ""))
}

// logRequests logs method, host, path and status: never a header.
func logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, r)
		log.Printf("%s %s %s %d", r.Method, r.Host, r.URL.Path, sw.status)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }
