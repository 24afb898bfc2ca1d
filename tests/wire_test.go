package tests

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	vmysql "github.com/dolthub/vitess/go/mysql"
	"github.com/stretchr/testify/require"
)

// wire is a minimal MySQL client written for the commands go-sql-driver
// never sends: COM_INIT_DB (the driver puts the database in its handshake,
// and sends USE as a query) and COM_FIELD_LIST. It speaks protocol 4.1 with
// classic EOF packets, and logs in with mysql_native_password, or with
// mysql_clear_password over TLS.
type wire struct {
	nc  net.Conn
	seq byte
	id  uint64 // the connection ID the server's handshake gave
}

// wireError is an ERR packet.
type wireError struct {
	Code    uint16
	State   string
	Message string
}

func (e *wireError) Error() string {
	return fmt.Sprintf("ERROR %d (%s): %s", e.Code, e.State, e.Message)
}

// wireCode is the MySQL error number of an ERR packet, 0 for none.
func wireCode(err error) uint16 {
	var we *wireError
	if errors.As(err, &we) {
		return we.Code
	}
	return 0
}

const (
	capLongPassword     = 1
	capConnectWithDB    = 8
	capProtocol41       = 0x200
	capSSL              = 0x800
	capTransactions     = 0x2000
	capSecureConnection = 0x8000
	capPluginAuth       = 0x80000
	capLenencAuthData   = 0x200000 // a token is longer than 255 bytes

	comInitDB    = 0x02
	comQuery     = 0x03
	comFieldList = 0x04
)

// dialWire logs in as user; db, if not empty, is sent in the handshake.
// The error is the server's ERR packet when the login is refused. The
// connection is closed when t ends.
func dialWire(t *testing.T, e *env, user, pw, db string, useTLS bool) (*wire, error) {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	// A bound on every exchange, so that a server that stops answering
	// fails the test instead of hanging it.
	require.NoError(t, nc.SetDeadline(time.Now().Add(30*time.Second)))
	w := &wire{nc: nc}

	hs, err := w.read()
	require.NoError(t, err)
	require.Equal(t, byte(10), hs[0], "protocol 10 handshake")
	rest := hs[1:]
	rest = rest[bytes.IndexByte(rest, 0)+1:] // server version
	w.id = uint64(binary.LittleEndian.Uint32(rest))
	salt := append([]byte(nil), rest[4:12]...)
	rest = rest[12+1+2+1+2+2:] // conn id, salt 1, filler, caps, charset, status, caps
	n := int(rest[0])
	rest = rest[1+10:]
	salt = append(salt, rest[:max(13, n-8)-1]...) // without its NUL

	caps := uint32(capLongPassword | capProtocol41 | capTransactions | capSecureConnection | capPluginAuth | capLenencAuthData)
	if db != "" {
		caps |= capConnectWithDB
	}
	fixed := func(caps uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, caps)
		b = binary.LittleEndian.AppendUint32(b, 1<<24)
		b = append(b, 33) // utf8_general_ci
		return append(b, make([]byte, 23)...)
	}
	plugin, auth := "mysql_native_password", vmysql.ScramblePassword(salt, []byte(pw))
	if useTLS {
		caps |= capSSL
		require.NoError(t, w.write(fixed(caps)))
		tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
		require.NoError(t, tc.Handshake())
		w.nc = tc
		plugin, auth = "mysql_clear_password", append([]byte(pw), 0)
	}
	resp := fixed(caps)
	resp = append(append(resp, user...), 0)
	resp = append(appendLenenc(resp, uint64(len(auth))), auth...)
	if db != "" {
		resp = append(append(resp, db...), 0)
	}
	resp = append(append(resp, plugin...), 0)
	require.NoError(t, w.write(resp))
	return w, w.ok()
}

func (w *wire) write(payload []byte) error {
	h := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), w.seq}
	w.seq++
	_, err := w.nc.Write(append(h, payload...))
	return err
}

func (w *wire) read() ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(w.nc, h[:]); err != nil {
		return nil, err
	}
	w.seq = h[3] + 1
	p := make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	_, err := io.ReadFull(w.nc, p)
	return p, err
}

// command sends a command packet and returns the first packet of the reply.
func (w *wire) command(cmd byte, arg []byte) ([]byte, error) {
	w.seq = 0
	if err := w.write(append([]byte{cmd}, arg...)); err != nil {
		return nil, err
	}
	p, err := w.read()
	if err != nil {
		return nil, err
	}
	return p, errPacket(p)
}

// ok reads a reply that must be OK or ERR.
func (w *wire) ok() error {
	p, err := w.read()
	if err != nil {
		return err
	}
	if err := errPacket(p); err != nil {
		return err
	}
	if p[0] != 0 {
		return fmt.Errorf("expected OK, got packet %x", p)
	}
	return nil
}

func errPacket(p []byte) error {
	if len(p) < 9 || p[0] != 0xff {
		return nil
	}
	return &wireError{Code: binary.LittleEndian.Uint16(p[1:]), State: string(p[4:9]), Message: string(p[9:])}
}

func isEOF(p []byte) bool { return len(p) > 0 && len(p) < 9 && p[0] == 0xfe }

// initDB sends COM_INIT_DB.
func (w *wire) initDB(db string) error {
	p, err := w.command(comInitDB, []byte(db))
	if err != nil {
		return err
	}
	if p[0] != 0 {
		return fmt.Errorf("expected OK, got packet %x", p)
	}
	return nil
}

// fieldList sends COM_FIELD_LIST and returns how many column definitions
// came back.
func (w *wire) fieldList(table string) (int, error) {
	p, err := w.command(comFieldList, append([]byte(table), 0))
	if err != nil {
		// vitess follows a COM_FIELD_LIST error with an EOF packet of the
		// same reply; read it so the next command starts clean.
		if p, rerr := w.read(); rerr != nil || !isEOF(p) {
			return 0, fmt.Errorf("after %v: expected EOF, got %x (%v)", err, p, rerr)
		}
		return 0, err
	}
	n := 0
	for ; !isEOF(p); n++ {
		if p, err = w.read(); err != nil {
			return n, err
		}
		if err := errPacket(p); err != nil {
			return n, err
		}
	}
	return n, nil
}

// query runs a statement with COM_QUERY and returns its rows as text (NULL
// as "").
func (w *wire) query(q string) ([][]string, error) {
	p, err := w.command(comQuery, []byte(q))
	if err != nil || p[0] == 0 {
		return nil, err
	}
	cols, _ := lenenc(p)
	for i := uint64(0); i <= cols; i++ { // the column definitions, then EOF
		if p, err = w.read(); err != nil {
			return nil, err
		}
	}
	if !isEOF(p) {
		return nil, fmt.Errorf("expected EOF after the columns, got %x", p)
	}
	var rows [][]string
	for {
		if p, err = w.read(); err != nil {
			return nil, err
		}
		if err := errPacket(p); err != nil {
			return nil, err
		}
		if isEOF(p) {
			return rows, nil
		}
		var row []string
		for len(p) > 0 {
			if p[0] == 0xfb {
				row, p = append(row, ""), p[1:]
				continue
			}
			n, size := lenenc(p)
			row, p = append(row, string(p[size:size+int(n)])), p[size+int(n):]
		}
		rows = append(rows, row)
	}
}

func appendLenenc(b []byte, n uint64) []byte {
	switch {
	case n < 0xfb:
		return append(b, byte(n))
	case n < 1<<16:
		return binary.LittleEndian.AppendUint16(append(b, 0xfc), uint16(n))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xfe), n)
}

// lenenc decodes a length-encoded integer: its value and its size.
func lenenc(p []byte) (uint64, int) {
	switch p[0] {
	case 0xfc:
		return uint64(binary.LittleEndian.Uint16(p[1:])), 3
	case 0xfd:
		return uint64(p[1]) | uint64(p[2])<<8 | uint64(p[3])<<16, 4
	case 0xfe:
		return binary.LittleEndian.Uint64(p[1:]), 9
	}
	return uint64(p[0]), 1
}
