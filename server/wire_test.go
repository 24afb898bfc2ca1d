package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"testing"
	"unsafe"

	"github.com/dolthub/vitess/go/mysql"
)

// The two fields server/wire.go relies on must be where it looks for them:
// if vitess renames one, this fails here rather than in a login.
func TestWireFenceFindsVitessFields(t *testing.T) {
	if sequenceOffset == 0 {
		t.Fatal(`vitess' mysql.Conn has no uint8 field "sequence": see invariant 1 in wire.go`)
	}
	if writerOffset == 0 {
		t.Fatal(`vitess' mysql.Conn has no *bufio.Writer field "bufferedWriter": see invariant 2 in wire.go`)
	}
}

func TestWriteAuthMoreDataUsesTheSequence(t *testing.T) {
	client, srv := pipe(t)
	defer client.Close()
	c := &mysql.Conn{Conn: srv}
	*(*uint8)(unsafe.Add(unsafe.Pointer(c), sequenceOffset)) = 3
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 6)
		io.ReadFull(client, b)
		got <- b
	}()
	w := &wireConn{c: c}
	if err := w.WriteAuthMoreData(context.Background(), []byte{4}); err != nil {
		t.Fatal(err)
	}
	if err := w.send(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "\x02\x00\x00\x03\x01\x04" {
		t.Fatalf("packet %x, want length 2, sequence 3, AuthMoreData 04", b)
	}
	if seq := *(*uint8)(unsafe.Add(unsafe.Pointer(c), sequenceOffset)); seq != 4 {
		t.Fatalf("sequence %d after the write, want 4", seq)
	}
}

// Were vitess to hold handshake output in its buffered writer, our packet
// must not overtake it: the write is refused and nothing is sent.
func TestWriteAuthMoreDataRefusesToOvertakeBufferedOutput(t *testing.T) {
	client, srv := pipe(t)
	defer client.Close()
	c := &mysql.Conn{Conn: srv}
	bw := bufio.NewWriter(srv)
	bw.WriteString("vitess' packet")
	*(**bufio.Writer)(unsafe.Add(unsafe.Pointer(c), writerOffset)) = bw
	if err := (&wireConn{c: c}).WriteAuthMoreData(context.Background(), []byte{4}); !errors.Is(err, errBuffered) {
		t.Fatalf("got %v, want errBuffered", err)
	}
	if pendingWrites(c) != len("vitess' packet") {
		t.Fatal("the buffered output must stay untouched")
	}
}

// The last packet a plugin writes goes out with vitess' next write (the
// login's OK) in one write, and the connection gets its own net.Conn back.
func TestHeldPacketsGoOutWithTheNextWrite(t *testing.T) {
	client, srv := pipe(t)
	defer client.Close()
	c := &mysql.Conn{Conn: srv}
	*(*uint8)(unsafe.Add(unsafe.Pointer(c), sequenceOffset)) = 3
	w := &wireConn{c: c}
	if err := w.WriteAuthMoreData(context.Background(), []byte{3}); err != nil {
		t.Fatal(err)
	}
	w.done()
	held := c.Conn
	got := make(chan []byte, 1)
	go func() {
		// net.Pipe hands over one Write per Read: one read sees one write.
		b := make([]byte, 64)
		n, _ := client.Read(b)
		got <- b[:n]
	}()
	if n, err := c.Conn.Write([]byte("OK")); err != nil || n != 2 {
		t.Fatalf("write = %d, %v", n, err)
	}
	if b := <-got; string(b) != "\x02\x00\x00\x03\x01\x03OK" {
		t.Fatalf("one write carried %q, want the held packet then OK", b)
	}
	if c.Conn != srv {
		t.Fatal("the connection did not get its net.Conn back")
	}
	// vitess writes a packet's header and body through one writer: the
	// second write carries nothing held.
	go func() {
		b := make([]byte, 64)
		n, _ := client.Read(b)
		got <- b[:n]
	}()
	if _, err := held.Write([]byte("body")); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "body" {
		t.Fatalf("a later write through the same writer carried %q", b)
	}
}

// With nothing held, the login's answer still leaves in one write: its
// header waits for its body (invariant 3).
func TestTheLoginAnswerLeavesInOneWrite(t *testing.T) {
	client, srv := pipe(t)
	defer client.Close()
	c := &mysql.Conn{Conn: srv}
	(&wireConn{c: c}).done()
	w := c.Conn
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 64)
		n, _ := client.Read(b)
		got <- b[:n]
	}()
	if n, err := w.Write([]byte{2, 0, 0, 4}); n != 4 || err != nil {
		t.Fatalf("header write = %d, %v", n, err)
	}
	if c.Conn != srv {
		t.Fatal("the connection did not get its net.Conn back at the first write")
	}
	if n, err := w.Write([]byte("OK")); n != 2 || err != nil {
		t.Fatalf("body write = %d, %v", n, err)
	}
	if b := <-got; string(b) != "\x02\x00\x00\x04OK" {
		t.Fatalf("one write carried %q, want the header and the body", b)
	}
}
