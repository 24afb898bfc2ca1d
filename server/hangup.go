package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/netutil"
)

// A client that gives up on a statement (a deadline, a gateway's call
// timeout) closes its connection, and that is all the server sees of it.
// The engine notices that only for plain TCP; over TLS the statement ran to
// its end, SLEEP(1e6) included, holding its connection and max_connections
// slot long after the client had gone: a client could fill the server by
// giving up on slow statements. So while a statement runs, its socket is
// checked for the client's hang-up, and the statement's context is
// cancelled when it has hung up.

// hangupEvery is how often a running statement's socket is checked, from
// the first check on, which a statement shorter than this never reaches.
const hangupEvery = time.Second

var errClientGone = errors.New("the client closed the connection")

// whileConnected is ctx, cancelled if c's client hangs up before done is
// called.
func whileConnected(ctx context.Context, c *mysql.Conn) (_ context.Context, done func()) {
	sc, ok := socketOf(c.Conn)
	if !ok {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	// The statement's end cancels ctx, which is also what stops the checks:
	// no channel of their own.
	t := time.AfterFunc(hangupEvery, func() {
		tick := time.NewTicker(hangupEvery)
		defer tick.Stop()
		for {
			if hungUp(sc) {
				cancel(errClientGone)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return ctx, func() {
		t.Stop()
		cancel(nil)
	}
}

// socketOf is the socket under vitess', TLS's and the listener's wrappers.
func socketOf(c net.Conn) (syscall.Conn, bool) {
	for {
		switch w := c.(type) {
		case *tls.Conn:
			c = w.NetConn()
		case netutil.ConnWithTimeouts:
			c = w.Conn
		case *heldWrite:
			c = w.Conn
		case *handshakeConn:
			c = w.Conn
		case syscall.Conn:
			return w, true
		default:
			return nil, false
		}
	}
}
