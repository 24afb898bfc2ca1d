package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
)

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
	client, srv := net.Pipe()
	c := newHandshakeConn(srv)
	// A header announcing 16 MB, and nothing more: refused at the header.
	err := readAll(t, c, client, []byte{0xff, 0xff, 0xff, 1})
	if !errors.Is(err, errHandshakeTooLarge) {
		t.Fatalf("got %v, want errHandshakeTooLarge", err)
	}
}

func TestHandshakeAcceptsOrdinaryPackets(t *testing.T) {
	client, srv := net.Pipe()
	c := newHandshakeConn(srv)
	resp := make([]byte, 200) // flags without CLIENT_SSL
	data := append(packet(resp), packet(make([]byte, maxHandshakePacket))...)
	if err := readAll(t, c, client, data); err != nil {
		t.Fatalf("ordinary packets refused: %v", err)
	}
}

func TestHandshakeBoundsTheBytesBeforeLogin(t *testing.T) {
	client, srv := net.Pipe()
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
	client, srv := net.Pipe()
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
	client, srv := net.Pipe()
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
