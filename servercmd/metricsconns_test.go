package servercmd

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// A neighbour opening connections to the metrics port and sending nothing
// holds no more of them than maxMetricsConns: the next one is closed at
// once rather than kept, each with its goroutine and descriptor, until the
// header timeout.
func TestMetricsConnectionsAreBounded(t *testing.T) {
	reg, err := newMetricsRegistry()
	if err != nil {
		t.Fatal(err)
	}
	ms, err := listenMetrics("127.0.0.1:0", reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ms.serve(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { ms.shutdown(t.Context()) })
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ms.addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	held := make([]net.Conn, maxMetricsConns)
	for i := range held {
		held[i] = dial()
	}
	// The server has taken every one of them once it answers on the last.
	if _, err := held[len(held)-1].Write([]byte("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	held[len(held)-1].SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := held[len(held)-1].Read(make([]byte, 1)); err != nil {
		t.Fatalf("a connection within the bound: %v", err)
	}
	// Well within the header timeout (10 s), which would close it anyway.
	extra := dial()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(extra); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection %d was kept open past the bound", maxMetricsConns+1)
	}
	// The bound counts connections that are gone: once the held ones are
	// closed, scrapes are served again.
	for _, c := range held {
		c.Close()
	}
	client := &http.Client{Timeout: waitLimit, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get("http://" + ms.addr() + metricsPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrape within %v once the held connections closed: %v", waitLimit, err)
		}
		<-tick.C
	}
}
