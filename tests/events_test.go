package tests

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/mysqlerr"
)

type recorded struct {
	mu     sync.Mutex
	events []string
}

func (r *recorded) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}

func (r *recorded) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func TestExtensionsHearConnectionAndStatementEvents(t *testing.T) {
	rec := &recorded{}
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("audit", extension.WithSessionHandlerFactory(func() *extension.SessionHandler {
		return &extension.SessionHandler{
			OnConnectionEvent: func(tp extension.ConnEventTp, info *extension.ConnEventInfo) {
				rec.add("conn " + tp.String() + " " + info.User)
			},
			OnStmtEvent: func(tp extension.StmtEventTp, info *extension.StmtEventInfo) {
				rec.add("stmt " + tp.String() + " " + info.User + " " + info.Text)
			},
		}
	})))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()

	db, err := sql.Open("mysql", e.dsn("root", rootPassword, withTLS))
	require.NoError(t, err)
	root, err := db.Conn(context.Background())
	require.NoError(t, err)
	exec(t, root, "CREATE USER u IDENTIFIED WITH mysql_native_password BY 'hunter2'", "SET PASSWORD FOR u = 'hunter3'")
	_, err = query(root, "SELECT a FROM demo.t")
	require.NoError(t, err)
	_, err = e.tryConn("u", "wrong")
	assert.Error(t, err)
	require.NoError(t, root.Close())
	require.NoError(t, db.Close())

	got := rec.list()
	assert.Contains(t, got, "conn handshake_accepted root")
	assert.Contains(t, got, "conn handshake_rejected u")
	assert.Contains(t, got, "stmt success root SELECT a FROM demo.t")
	for _, ev := range got {
		assert.NotContains(t, ev, "hunter", "passwords never reach the audit")
	}
	assert.Contains(t, got, "stmt success root CREATE USER u IDENTIFIED WITH mysql_native_password BY '<redacted>'")
	assert.Contains(t, got, "stmt success root SET PASSWORD FOR u = '<redacted>'")
	assert.Eventually(t, func() bool { return slices.Contains(rec.list(), "conn disconnected root") }, e.timeout, e.timeout/100,
		"the disconnect is reported once the server has seen the close")
}

// A failed statement's event carries the error the client got, as a
// *mysqlerr.Error, whether authplug refused it or the engine failed it:
// an audit log shows every failure in one form.
func TestStatementErrorsReachExtensionsAsTheClientSawThem(t *testing.T) {
	var mu sync.Mutex
	errs := map[string]error{}
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("audit", extension.WithSessionHandlerFactory(func() *extension.SessionHandler {
		return &extension.SessionHandler{OnStmtEvent: func(tp extension.StmtEventTp, info *extension.StmtEventInfo) {
			if tp == extension.StmtError {
				mu.Lock()
				defer mu.Unlock()
				errs[info.Text] = info.Err
			}
		}}
	})))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	exec(t, e.root(), "CREATE USER low IDENTIFIED BY 'pw'", "GRANT SELECT ON demo.t TO low")
	low, root := e.conn("low", "pw", withTLS), e.root()

	for _, c := range []struct {
		conn *sql.Conn
		stmt string
		want uint16
	}{
		{root, "SELECT * FROM demo.nosuch", mysqlerr.ErNoSuchTable},     // the engine's
		{low, "SELECT * FROM mysql.user", mysqlerr.ErTableAccessDenied}, // authplug's
		{low, "SELEC 1", mysqlerr.ErSyntax},
	} {
		stmt, want := c.stmt, c.want
		_, err := query(c.conn, stmt)
		require.Error(t, err, stmt)
		mu.Lock()
		got := errs[stmt]
		mu.Unlock()
		var me *mysqlerr.Error
		if assert.ErrorAs(t, got, &me, "%s: %T %v", stmt, got, got) {
			assert.Equal(t, want, me.Code, stmt)
			assert.Equal(t, code(err), me.Code, "%s: the number the client got", stmt)
		}
	}
}
