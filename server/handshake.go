package server

import (
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/dolthub/vitess/go/netutil"
)

// Before a client has logged in, what it may make the server hold is
// bounded here: vitess reads a packet of any announced length (up to 16
// MB, joining longer ones without end) and sets the buffer aside as soon
// as it has read the header. An unauthenticated client could otherwise
// hold gigabytes for the length of the handshake deadline, on every
// connection max_connections lets in. MySQL bounds every packet by
// max_allowed_packet; the handshake needs far less.
const (
	// maxHandshakePacket bounds one packet of the handshake: the
	// handshake response (with connection attributes), an auth-switch or
	// AuthMoreData answer (an RSA blob, a token).
	maxHandshakePacket = 256 << 10
	// maxHandshakeBytes bounds everything a client sends before its login
	// succeeds, TLS records included.
	maxHandshakeBytes = 1 << 20
)

const clientSSL = 0x800 // CLIENT_SSL in the handshake response's flags

var errHandshakeTooLarge = errors.New("the client sent more than a login needs before logging in")

// handshakeConn is an accepted connection until its login succeeds. Every
// byte read counts against maxHandshakeBytes; while the stream is plain
// MySQL framing (before any TLS), each packet header is checked against
// maxHandshakePacket before vitess sees it. Meanwhile it also saves the
// syscalls of vitess' unbuffered handshake I/O: a packet's header is sent
// with its body (Write), and reads read ahead (Read). Once the client is
// in (authenticated), reads and writes pass straight through.
type handshakeConn struct {
	net.Conn
	authenticated atomic.Bool
	readN         int64 // bytes read before the login
	// deadline ends the handshake: set on the socket at accept, and the
	// login's context ends with it (handshakeDeadline). Kept here rather
	// than in a map by connection, which every login would write twice.
	deadline time.Time

	framing bool    // the stream is still plain MySQL packets
	hdr     [4]byte // the header being read
	hdrN    int
	left    int    // payload bytes of the current packet still to come
	packets int    // packets whose header has been read
	flags   []byte // the first packet's first payload bytes: its flags

	// out holds a packet header written and not yet sent (Write); in, what
	// was read into ahead and not yet handed out (Read): a handshake
	// response is a few hundred bytes.
	out   []byte
	in    []byte
	ahead [512]byte
}

func newHandshakeConn(c net.Conn) *handshakeConn { return &handshakeConn{Conn: c, framing: true} }

// Read reads ahead while the stream is plain MySQL packets: vitess reads
// the handshake response (and an SSL request) by its header and then its
// body, straight from the connection, which would cost a syscall each; one
// read gets both, and what TLS sends next. What was read ahead is handed
// out first, to vitess or to TLS, which reads through this connection.
func (c *handshakeConn) Read(p []byte) (int, error) {
	if len(c.out) > 0 {
		// Whatever was written goes out before the client is waited for.
		if err := c.flush(); err != nil {
			return 0, err
		}
	}
	if len(c.in) > 0 {
		n := copy(p, c.in)
		c.in = c.in[n:]
		return n, nil
	}
	if c.framing && len(p) < len(c.ahead) && !c.authenticated.Load() {
		n, err := c.read(c.ahead[:])
		k := copy(p, c.ahead[:n])
		c.in = c.ahead[k:n]
		return k, err
	}
	return c.read(p)
}

// read reads from the connection, counting and framing what it reads
// until the client is in.
func (c *handshakeConn) read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.authenticated.Load() || n == 0 {
		return n, err
	}
	if c.readN += int64(n); c.readN > maxHandshakeBytes {
		return 0, errHandshakeTooLarge
	}
	if c.framing {
		if ferr := c.frame(p[:n]); ferr != nil {
			return 0, ferr
		}
	}
	return n, err
}

// Write sends a packet's header with its body. While vitess does not
// buffer (the handshake, wire.go's invariant 2), it writes the two
// separately (writePacket, invariant 3), which would cost a syscall and a
// segment more for every packet, and the client a read more. Only plain
// MySQL packets before the login are held: TLS records pass through, as
// does everything once the client is in.
func (c *handshakeConn) Write(p []byte) (int, error) {
	if len(c.out) > 0 {
		c.out = append(c.out, p...)
		err := c.flush()
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if c.framing && packetHeader(p) && !c.authenticated.Load() {
		c.out = append(c.out, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// flush sends what Write held.
func (c *handshakeConn) flush() error {
	_, err := c.Conn.Write(c.out)
	c.out = c.out[:0]
	return err
}

// packetHeader reports whether p is a header that writePacket follows with
// its body: one announcing a non-empty packet. (An empty packet's header
// after a packet of exactly MaxPacketSize has no body write.)
func packetHeader(p []byte) bool {
	return len(p) == 4 && (p[0] != 0 || p[1] != 0 || p[2] != 0)
}

// frame follows the packet framing through b, refusing a packet longer
// than maxHandshakePacket. It stops at the first packet if that one asks
// for TLS: what follows is TLS records, which the byte count still bounds.
func (c *handshakeConn) frame(b []byte) error {
	for len(b) > 0 {
		if c.left == 0 {
			k := copy(c.hdr[c.hdrN:], b)
			c.hdrN += k
			b = b[k:]
			if c.hdrN < 4 {
				return nil
			}
			c.hdrN = 0
			c.left = int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
			c.packets++
			if c.left > maxHandshakePacket {
				return errHandshakeTooLarge
			}
			continue
		}
		k := min(c.left, len(b))
		if c.packets == 1 && len(c.flags) < 4 {
			c.flags = append(c.flags, b[:min(k, 4-len(c.flags))]...)
		}
		c.left -= k
		b = b[k:]
		if c.left == 0 && c.packets == 1 && len(c.flags) >= 2 && (int(c.flags[0])|int(c.flags[1])<<8)&clientSSL != 0 {
			c.framing = false // TLS from here on
			return nil
		}
	}
	return nil
}

// loggedIn lifts the limits of conn (vitess' Conn field), and gives vitess
// and the engine the accepted connection itself back where there is no
// TLS, as the engine looks for a *net.TCPConn to notice clients that went
// away.
func loggedIn(conn *net.Conn) {
	hc := handshakeOf(*conn)
	if hc == nil {
		return
	}
	hc.authenticated.Store(true)
	if *conn == net.Conn(hc) {
		*conn = hc.Conn
	}
}

// handshakeOf is the handshakeConn the listener made of c, under vitess'
// and TLS's wrappers, or nil.
func handshakeOf(c net.Conn) *handshakeConn {
	for {
		switch w := c.(type) {
		case *handshakeConn:
			return w
		case *tls.Conn:
			c = w.NetConn()
		case netutil.ConnWithTimeouts:
			c = w.Conn
		case *heldWrite:
			c = w.Conn
		default:
			return nil
		}
	}
}
