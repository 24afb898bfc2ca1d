package server

// The one place authplug reaches into vitess' connection: vitess gives an
// AuthMethod no way to send a packet of its own, but caching_sha2_password
// (and any plugin that needs more than one round trip) must answer the
// client before the login's OK or ERR. We write those AuthMoreData packets
// straight to the socket. That is sound only while two facts about vitess
// (github.com/dolthub/vitess/go/mysql) hold; both are checked here and by
// tests (wire_test.go, tests/wire_fence_test.go):
//
//  1. The packet sequence. A Conn keeps the next sequence number in an
//     unexported uint8 field "sequence" (conn.go), which writePacket stamps
//     on every packet and readHeaderFrom compares on every read ("invalid
//     sequence"). A packet we write must carry it and advance it, or the
//     client's reply is refused. The field is found by reflection once; if
//     vitess renames or retypes it, sequenceOffset is 0 and New refuses to
//     start rather than fail every caching_sha2 login later.
//
//  2. Handshake writes are not buffered. vitess writes the handshake and the
//     auth switch request through getWriter, which is the raw net.Conn until
//     startWriterBuffering is called; that happens only in handleNextCommand,
//     after the login, and flush puts the writer back to nil. So when
//     HandleAuthPluginData runs, everything vitess wrote is already on the
//     socket and our packet cannot overtake it. Should vitess start
//     buffering there, writeAuthMoreData sees the pending bytes (the
//     unexported "bufferedWriter") and fails the login instead of sending
//     packets out of order.

import (
	"bufio"
	"context"
	"errors"
	"reflect"
	"unsafe"

	"github.com/dolthub/vitess/go/mysql"
)

// wireConn is the AuthConn of a connection in its handshake.
type wireConn struct{ c *mysql.Conn }

func (w wireConn) WriteAuthMoreData(ctx context.Context, data []byte) error {
	if sequenceOffset == 0 {
		return errNoSequence
	}
	n := 1 + len(data)
	if n >= 1<<24-1 {
		return errors.New("auth data too large for one packet")
	}
	if pendingWrites(w.c) > 0 {
		return errBuffered
	}
	seq := (*uint8)(unsafe.Add(unsafe.Pointer(w.c), sequenceOffset))
	pkt := make([]byte, 0, 4+n)
	pkt = append(pkt, byte(n), byte(n>>8), byte(n>>16), *seq, mysql.AuthMoreDataPacket)
	pkt = append(pkt, data...)
	*seq++
	if dl, ok := ctx.Deadline(); ok {
		w.c.Conn.SetWriteDeadline(dl)
	}
	_, err := w.c.Conn.Write(pkt)
	return err
}

func (w wireConn) ReadPacket(ctx context.Context) ([]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		w.c.Conn.SetReadDeadline(dl)
	}
	p, err := w.c.ReadPacket(ctx)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), p...), nil
}

var (
	errNoSequence = errors.New("this vitess version hides the packet sequence: extra auth round trips are unavailable")
	errBuffered   = errors.New("vitess has buffered handshake output: an AuthMoreData packet written now would overtake it")
)

// sequenceOffset is where vitess keeps a connection's packet sequence
// number (invariant 1), 0 if it is not there.
var sequenceOffset = fieldOffset("sequence", reflect.TypeFor[uint8]())

// writerOffset is where vitess keeps its buffered writer (invariant 2), 0
// if it is not there; the tests insist that it is, so that a rename does not
// silently disable the check.
var writerOffset = fieldOffset("bufferedWriter", reflect.TypeFor[*bufio.Writer]())

func fieldOffset(name string, typ reflect.Type) uintptr {
	f, ok := reflect.TypeFor[mysql.Conn]().FieldByName(name)
	if !ok || f.Type != typ {
		return 0
	}
	return f.Offset
}

// pendingWrites is how many bytes vitess has written to c but not yet sent.
func pendingWrites(c *mysql.Conn) int {
	if writerOffset == 0 {
		return 0
	}
	if bw := *(**bufio.Writer)(unsafe.Add(unsafe.Pointer(c), writerOffset)); bw != nil {
		return bw.Buffered()
	}
	return 0
}
