package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
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
	client, srv := net.Pipe()
	defer client.Close()
	c := &mysql.Conn{Conn: srv}
	*(*uint8)(unsafe.Add(unsafe.Pointer(c), sequenceOffset)) = 3
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 6)
		io.ReadFull(client, b)
		got <- b
	}()
	if err := (wireConn{c}).WriteAuthMoreData(context.Background(), []byte{4}); err != nil {
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
	client, srv := net.Pipe()
	defer client.Close()
	c := &mysql.Conn{Conn: srv}
	bw := bufio.NewWriter(srv)
	bw.WriteString("vitess' packet")
	*(**bufio.Writer)(unsafe.Add(unsafe.Pointer(c), writerOffset)) = bw
	if err := (wireConn{c}).WriteAuthMoreData(context.Background(), []byte{4}); !errors.Is(err, errBuffered) {
		t.Fatalf("got %v, want errBuffered", err)
	}
	if pendingWrites(c) != len("vitess' packet") {
		t.Fatal("the buffered output must stay untouched")
	}
}
