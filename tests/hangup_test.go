package tests

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A statement whose client went away is cancelled: it would otherwise run
// to its end, holding its connection (a max_connections slot) and its
// work. A client that gives up on a statement (a deadline, a gateway's
// call timeout) closes its connection, which is all the server sees.
func TestStatementOfAClientThatHungUpIsCancelled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("hang-ups are noticed on Linux only")
	}
	e := start(t, nil, "")
	root := e.root()
	for name, opts := range map[string][]dsnOpt{"plain": nil, "TLS": {withTLS}} {
		t.Run(name, func(t *testing.T) {
			c := e.conn("root", rootPassword, opts...)
			var id string
			require.NoError(t, c.QueryRowContext(t.Context(), "SELECT CONNECTION_ID()").Scan(&id))
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			_, err := c.ExecContext(ctx, "SELECT SLEEP(60)")
			require.ErrorIs(t, err, context.DeadlineExceeded, "the client gave up and closed its connection")
			assert.Eventually(t, func() bool {
				rows, err := query(root, "SELECT id FROM information_schema.processlist WHERE id = "+id)
				return err == nil && len(rows) == 0
			}, 10*time.Second, 50*time.Millisecond, "the statement and its connection ended")
		})
	}
}
