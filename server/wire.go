package server

// The one place authplug reaches into vitess' connection: vitess gives an
// AuthMethod no way to send a packet of its own, but caching_sha2_password
// (and any plugin that needs more than one round trip) must answer the
// client before the login's OK or ERR. We write those AuthMoreData packets
// straight to the socket. That is sound only while these facts about vitess
// (github.com/dolthub/vitess/go/mysql) hold; they are checked here and by
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
//
//  3. Unbuffered, writePacket sends a packet in two writes through the one
//     writer it took from getWriter: its 4-byte header, then its body
//     (even an empty one; only the empty packet that follows one of
//     exactly MaxPacketSize has a header alone). Each write costs a
//     syscall, a TCP segment (or a TLS record) and often a wakeup of the
//     client, which a server that buffers its output does not pay; so a
//     header announcing a non-empty packet is held until the body's
//     write, which carries both: by handshakeConn before the login (which
//     also sends it before any read, so a header alone could never leave
//     the client waiting while the server waits too), and by heldWrite for
//     the login's OK or ERR. Were vitess to write a header without its
//     body, that answer would never leave, and every login test would
//     fail (tests/wire_fence_test.go checks the framing packet by packet).
//
// A plugin's packets are held until it next reads (the client must see them
// to answer) or, for its last one, until vitess writes the login's OK or
// ERR: done hands them to that write, so caching_sha2's fast-auth success
// and the OK leave in one write (and over TLS one record), as a server that
// buffers its output sends them. vitess writes that answer through the
// exported Conn field, which done points at a heldWrite until its first
// write; the swap happens in the connection's own goroutine, before vitess
// touches the field again.

import (
	"bufio"
	"context"
	"errors"
	"net"
	"reflect"
	"unsafe"

	"github.com/dolthub/vitess/go/mysql"
)

// wireConn is the AuthConn of a connection in its handshake.
type wireConn struct {
	c    *mysql.Conn
	held []byte // packets written and not yet sent
}

func (w *wireConn) WriteAuthMoreData(ctx context.Context, data []byte) error {
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
	w.held = append(w.held, byte(n), byte(n>>8), byte(n>>16), *seq, mysql.AuthMoreDataPacket)
	w.held = append(w.held, data...)
	*seq++
	return nil
}

func (w *wireConn) ReadPacket(ctx context.Context) ([]byte, error) {
	if err := w.send(ctx); err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		w.c.Conn.SetReadDeadline(dl)
	}
	p, err := w.c.ReadPacket(ctx)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), p...), nil
}

// send writes the held packets now.
func (w *wireConn) send(ctx context.Context) error {
	if len(w.held) == 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		w.c.Conn.SetWriteDeadline(dl)
	}
	_, err := w.c.Conn.Write(w.held)
	w.held = nil
	return err
}

// done hands the packets still held to vitess' next packet on the
// connection, the login's OK or ERR, which leaves in one write with them.
// The host calls it once the plugin has finished, whatever the outcome.
func (w *wireConn) done() {
	w.c.Conn = &heldWrite{Conn: w.c.Conn, held: w.held, owner: w.c}
	w.held = nil
}

// heldWrite sends held packets ahead of vitess' next packet, in the same
// write, and gives the connection back its own net.Conn at the first
// write. vitess writes a packet's header and its body through the writer
// it took (invariant 3), so a header is held for the body that follows,
// and later writes go straight through.
type heldWrite struct {
	net.Conn
	held  []byte
	owner *mysql.Conn
}

func (h *heldWrite) Write(p []byte) (int, error) {
	if h.owner != nil {
		h.owner.Conn = h.Conn
		h.owner = nil
		if packetHeader(p) {
			h.held = append(h.held, p...)
			return len(p), nil
		}
	}
	if len(h.held) == 0 {
		return h.Conn.Write(p)
	}
	held := h.held
	h.held = nil
	n, err := h.Conn.Write(append(held, p...))
	return max(n-len(held), 0), err
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
