package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pipe is net.Pipe with a deadline on both ends: a pipe holds no buffer,
// so a read or a write that the code under test never matches would hang
// the test instead of failing it.
func pipe(t *testing.T) (client, srv net.Conn) {
	t.Helper()
	client, srv = net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	if err := errors.Join(client.SetDeadline(deadline), srv.SetDeadline(deadline)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		srv.Close()
	})
	return client, srv
}

// readAll feeds data to a handshakeConn over a pipe and reads it back as
// vitess would, returning the first error.
func readAll(t *testing.T, c *handshakeConn, client net.Conn, data []byte) error {
	t.Helper()
	go func() {
		client.Write(data)
		client.Close()
	}()
	_, err := io.Copy(io.Discard, c)
	return err
}

func packet(payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 1}, payload...)
}

func TestHandshakeRefusesAnOversizedPacketAtItsHeader(t *testing.T) {
	client, srv := pipe(t)
	c := newHandshakeConn(srv)
	// A header announcing 16 MB, and nothing more: refused at the header.
	err := readAll(t, c, client, []byte{0xff, 0xff, 0xff, 1})
	if !errors.Is(err, errHandshakeTooLarge) {
		t.Fatalf("got %v, want errHandshakeTooLarge", err)
	}
}

func TestHandshakeAcceptsOrdinaryPackets(t *testing.T) {
	client, srv := pipe(t)
	c := newHandshakeConn(srv)
	resp := make([]byte, 200) // flags without CLIENT_SSL
	data := append(packet(resp), packet(make([]byte, maxHandshakePacket))...)
	if err := readAll(t, c, client, data); err != nil {
		t.Fatalf("ordinary packets refused: %v", err)
	}
}

func TestHandshakeBoundsTheBytesBeforeLogin(t *testing.T) {
	client, srv := pipe(t)
	c := newHandshakeConn(srv)
	var data []byte
	for len(data) <= maxHandshakeBytes {
		data = append(data, packet(make([]byte, maxHandshakePacket-1))...)
	}
	if err := readAll(t, c, client, data); !errors.Is(err, errHandshakeTooLarge) {
		t.Fatalf("got %v, want errHandshakeTooLarge", err)
	}
}

func TestHandshakeStopsFramingAtTLS(t *testing.T) {
	client, srv := pipe(t)
	c := newHandshakeConn(srv)
	ssl := make([]byte, 32)
	binary.LittleEndian.PutUint32(ssl, clientSSL)
	// After the SSL request come TLS records, whose bytes are not MySQL
	// headers: 0xff 0xff 0xff read as a length must not be refused.
	data := append(packet(ssl), bytes.Repeat([]byte{0xff}, 64)...)
	if err := readAll(t, c, client, data); err != nil {
		t.Fatalf("TLS bytes taken for a header: %v", err)
	}
}

func TestLoggedInLiftsTheLimits(t *testing.T) {
	client, srv := pipe(t)
	hc := newHandshakeConn(srv)
	var conn net.Conn = hc
	loggedIn(&conn)
	if conn != srv {
		t.Fatal("the accepted connection was not given back")
	}
	if err := readAll(t, hc, client, []byte{0xff, 0xff, 0xff, 1}); err != nil {
		t.Fatalf("a logged-in reader still limited: %v", err)
	}
}

// readOnce returns what one Read on a pipe gets: net.Pipe hands over one
// Write per Read.
func readOnce(c net.Conn) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 256)
		n, _ := c.Read(b)
		got <- b[:n]
	}()
	return got
}

// vitess writes a packet's header and body separately while it does not
// buffer (wire.go, invariant 3): they leave in one write.
func TestHandshakeSendsAHeaderWithItsBody(t *testing.T) {
	client, srv := pipe(t)
	defer client.Close()
	c := newHandshakeConn(srv)
	got := readOnce(client)
	if n, err := c.Write([]byte{5, 0, 0, 0}); n != 4 || err != nil {
		t.Fatalf("header write = %d, %v", n, err)
	}
	if n, err := c.Write([]byte("hello")); n != 5 || err != nil {
		t.Fatalf("body write = %d, %v", n, err)
	}
	if b := <-got; string(b) != "\x05\x00\x00\x00hello" {
		t.Fatalf("one write carried %q, want the header and the body", b)
	}
}

// A header held is sent before the server waits for the client, and the
// header of an empty packet (which has no body write) is not held.
func TestHandshakeSendsAHeldHeaderBeforeReading(t *testing.T) {
	client, srv := pipe(t)
	defer client.Close()
	c := newHandshakeConn(srv)
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 256)
		n, _ := client.Read(b)
		got <- b[:n]
		client.Write([]byte{1}) // the answer the server waits for
	}()
	c.Write([]byte{5, 0, 0, 0})
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "\x05\x00\x00\x00" {
		t.Fatalf("before the read the client got %q, want the header", b)
	}
	got2 := readOnce(client)
	c.Write([]byte{0, 0, 0, 1})
	if b := <-got2; string(b) != "\x00\x00\x00\x01" {
		t.Fatalf("an empty packet's header was held: the client got %q", b)
	}
}

// Once TLS starts, and once the client is in, writes go straight through.
func TestHandshakeHoldsNoTLSRecordsAndNothingAfterLogin(t *testing.T) {
	for name, setup := range map[string]func(*handshakeConn){
		"tls":       func(c *handshakeConn) { c.framing = false },
		"logged in": func(c *handshakeConn) { c.authenticated.Store(true) },
	} {
		t.Run(name, func(t *testing.T) {
			client, srv := pipe(t)
			defer client.Close()
			c := newHandshakeConn(srv)
			setup(c)
			got := readOnce(client)
			c.Write([]byte{5, 0, 0, 0})
			if b := <-got; string(b) != "\x05\x00\x00\x00" {
				t.Fatalf("the client got %q, want the 4 bytes at once", b)
			}
		})
	}
}

// countingConn counts the reads that reach the connection.
type countingConn struct {
	net.Conn
	reads int
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads++
	return c.Conn.Read(p)
}

// vitess reads the handshake response by its header and then its body:
// one read of the connection gets both, and what follows (TLS, after an
// SSL request) is handed out after them, in order.
func TestHandshakeReadsAhead(t *testing.T) {
	client, srv := pipe(t)
	defer client.Close()
	cc := &countingConn{Conn: srv}
	c := newHandshakeConn(cc)
	ssl := make([]byte, 32)
	binary.LittleEndian.PutUint32(ssl, clientSSL)
	tlsBytes := bytes.Repeat([]byte{0x16, 0xff}, 40)
	sent := append(packet(ssl), tlsBytes...)
	go client.Write(sent)

	hdr := make([]byte, 4)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 32)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	if cc.reads != 1 {
		t.Fatalf("%d reads of the connection for one packet, want 1", cc.reads)
	}
	rest := make([]byte, len(tlsBytes))
	if _, err := io.ReadFull(c, rest); err != nil {
		t.Fatal(err)
	}
	got := append(append(hdr, body...), rest...)
	if !bytes.Equal(got, sent) {
		t.Fatalf("read %x, want %x", got, sent)
	}
}
