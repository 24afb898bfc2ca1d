package tests

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vmysql "github.com/dolthub/vitess/go/mysql"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// auditRecorder is an extension that keeps every statement event, and the
// connection ID of each accepted login.
type auditRecorder struct {
	mu     sync.Mutex
	events []auditEvent
	logins map[string]uint64 // user -> connection ID of the last login
}

type auditEvent struct {
	conn               uint64
	ok                 bool
	text               string
	account, effective priv.Account
	code               uint16 // the error's MySQL number, 0 on success
	err                string
}

func (r *auditRecorder) option() extension.Option {
	return extension.WithSessionHandlerFactory(func() *extension.SessionHandler {
		return &extension.SessionHandler{OnConnectionEvent: func(tp extension.ConnEventTp, info *extension.ConnEventInfo) {
			if tp != extension.ConnHandshakeAccepted {
				return
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.logins == nil {
				r.logins = map[string]uint64{}
			}
			r.logins[info.User] = info.ConnectionID
		}, OnStmtEvent: func(tp extension.StmtEventTp, info *extension.StmtEventInfo) {
			ev := auditEvent{conn: info.ConnectionID, ok: tp == extension.StmtSuccess, text: info.Text,
				account: info.Account, effective: info.EffectiveAccount}
			if info.Err != nil {
				ev.err = info.Err.Error()
				ev.code = mysqlerr.Code(info.Err)
				var se *vmysql.SQLError
				if errors.As(info.Err, &se) {
					ev.code = uint16(se.Number())
				}
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, ev)
		}}
	})
}

func (r *auditRecorder) of(conn uint64) []auditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []auditEvent
	for _, ev := range r.events {
		if ev.conn == conn {
			out = append(out, ev)
		}
	}
	return out
}

// auditWatch follows one connection's events. Events are delivered before
// the server answers the command, so whatever a client has seen answered
// is already recorded: no waiting is needed.
type auditWatch struct {
	r    *auditRecorder
	conn uint64
	seen int
}

func (r *auditRecorder) watch(conn uint64) *auditWatch {
	return &auditWatch{r: r, conn: conn, seen: len(r.of(conn))}
}

// next returns the connection's events since the last call.
func (w *auditWatch) next() []auditEvent {
	all := w.r.of(w.conn)
	out := all[w.seen:]
	w.seen = len(all)
	return out
}

func texts(evs []auditEvent) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, ev.text)
	}
	return out
}

// lastLogin is the connection ID of user's last login. It is taken from
// the handshake event rather than asked with SQL, so that the connection's
// audit holds only what the test runs. The event is delivered before the
// client is told it logged in.
func (r *auditRecorder) lastLogin(t *testing.T, user string) uint64 {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.logins[user]
	require.True(t, ok, "no login of %s", user)
	return id
}

// login opens a session for the calling (sub)test.
func login(t *testing.T, e *env, user, pw string, opts ...dsnOpt) *sql.Conn {
	t.Helper()
	c, err := e.in(t).tryConn(user, pw, opts...)
	require.NoError(t, err, "login as %s", user)
	return c
}

func withMultiStatements(c *mysql.Config) { c.MultiStatements = true }

func startAudited(t *testing.T) (*env, *auditRecorder) {
	t.Helper()
	rec := &auditRecorder{}
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("recorder", rec.option()))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	return e, rec
}

// Making a database current needs some privilege on it, whichever way the
// client asks: in its handshake (the login then fails, as in MySQL), with
// COM_INIT_DB, or with USE. A refusal does not tell whether the database
// exists.
func TestCurrentDatabaseNeedsAPrivilege(t *testing.T) {
	e, rec := startAudited(t)
	exec(t, e.root(),
		"CREATE DATABASE secret",
		"CREATE USER outsider IDENTIFIED WITH mysql_native_password BY 'opw'",
		"GRANT SELECT ON secret.* TO outsider",
		// A grant on one table is enough to make its database current.
		"CREATE USER reader IDENTIFIED WITH mysql_native_password BY 'rpw'",
		"GRANT SELECT ON demo.t TO reader",
	)

	t.Run("handshake", func(t *testing.T) {
		e := e.in(t)
		for _, db := range []string{"demo", "nosuch"} {
			_, err := e.tryConn("outsider", "opw", withDB(db))
			assert.Equal(t, uint16(mysqlerr.ErDBAccessDenied), code(err), "%s: %v", db, err)
			assert.ErrorContains(t, err, "Access denied for user 'outsider'@'localhost' to database '"+db+"'")
		}
		c := login(t, e, "reader", "rpw", withDB("demo"))
		rows, err := query(c, "SELECT DATABASE(), a FROM t WHERE id = 1")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"demo", "10"}}, rows, "the handshake's database is current")

		c = login(t, e, "outsider", "opw", withDB("information_schema"))
		rows, err = query(c, "SELECT DATABASE()")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"information_schema"}}, rows, "information_schema needs no privilege")

		_, err = e.tryConn("root", rootPassword, withTLS, withDB("nosuch"))
		assert.Equal(t, uint16(mysqlerr.ErBadDB), code(err), "allowed everywhere: the missing database is reported: %v", err)
	})

	t.Run("a refused handshake database ends the connection", func(t *testing.T) {
		w, err := dialWire(t, e, "outsider", "opw", "demo", false)
		require.Equal(t, uint16(mysqlerr.ErDBAccessDenied), wireCode(err), "%v", err)
		_, err = w.query("SELECT 1")
		require.Error(t, err)
		assert.Zero(t, wireCode(err), "no session answers after the refusal: %v", err)
	})

	t.Run("COM_INIT_DB", func(t *testing.T) {
		w, err := dialWire(t, e, "outsider", "opw", "", false)
		require.NoError(t, err)
		audit := rec.watch(w.id)
		for _, db := range []string{"demo", "nosuch"} {
			err := w.initDB(db)
			assert.Equal(t, uint16(mysqlerr.ErDBAccessDenied), wireCode(err), "%s: %v", db, err)
			assert.ErrorContains(t, err, "Access denied for user 'outsider'@'localhost' to database '"+db+"'")
		}
		rows, err := w.query("SELECT DATABASE()")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{""}}, rows, "a refused COM_INIT_DB leaves no database current")

		require.NoError(t, w.initDB("secret"))
		require.NoError(t, w.initDB("INFORMATION_SCHEMA"))
		rows, err = w.query("SELECT DATABASE()")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"INFORMATION_SCHEMA"}}, rows, "information_schema, in any case, needs no privilege")

		evs := audit.next()
		require.Equal(t, []string{"USE `demo`", "USE `nosuch`", "SELECT DATABASE()", "USE `secret`", "USE `INFORMATION_SCHEMA`", "SELECT DATABASE()"}, texts(evs),
			"each COM_INIT_DB is audited once, as the USE it is")
		assert.Equal(t, uint16(mysqlerr.ErDBAccessDenied), evs[0].code)
		assert.False(t, evs[1].ok)
		assert.True(t, evs[3].ok)
	})

	t.Run("USE", func(t *testing.T) {
		c := login(t, e, "outsider", "opw")
		_, err := c.ExecContext(context.Background(), "USE demo")
		assert.Equal(t, uint16(mysqlerr.ErDBAccessDenied), code(err), "%v", err)
		exec(t, c, "USE secret")
	})
}

// A session whose plugin reports it lapsed (an expired token) is refused
// every command, those that need no privilege included, and each refusal is
// audited once.
func TestLapsedSessionRefusesEveryCommand(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	rec := &auditRecorder{}
	e, dev := oauthServer(t, nil, now, rec.option())
	exec(t, e.root(),
		"CREATE USER 'alice@example.com' IDENTIFIED WITH authentication_oauth AS '{\"issuer\":\"authplug-dev\"}'",
		"GRANT SELECT ON demo.* TO 'alice@example.com'",
	)
	tok, err := dev.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience,
		Subject: "alice@example.com", Scope: "select:demo", TTL: 10 * time.Minute, Now: now()})
	require.NoError(t, err)
	ctx := context.Background()

	alice := e.conn("alice@example.com", tok, withCleartext, withTLS)
	aliceID := rec.lastLogin(t, "alice@example.com")
	multi := e.conn("alice@example.com", tok, withCleartext, withTLS, withMultiStatements)
	multiID := rec.lastLogin(t, "alice@example.com")
	raw, err := dialWire(t, e, "alice@example.com", tok, "", true)
	require.NoError(t, err)
	// Prepared while the token is valid, executed after it lapsed.
	stmt, err := alice.PrepareContext(ctx, "SELECT a FROM demo.t WHERE id = ?")
	require.NoError(t, err)
	defer stmt.Close()

	type command struct {
		name string
		run  func() error
	}
	text := func(q string) command {
		return command{q, func() error { _, err := query(alice, q); return err }}
	}
	commands := []command{
		text("SELECT 1"),
		text("SHOW DATABASES"),
		text("SET @a = 1"),
		text("SELECT COUNT(*) FROM information_schema.schemata"),
		text("USE demo"),
		text("PREPARE s FROM 'SELECT 1'"),
		text("SET ROLE NONE"), // an account statement that needs no privilege
		text("REVERT"),        // nor does this one
		{"multi-statement", func() error { _, err := multi.ExecContext(ctx, "SELECT 1; SELECT 2"); return err }},
		{"binary prepare and execute", func() error {
			_, err := queryArgs(alice, "SELECT a FROM demo.t WHERE id = ?", 1)
			return err
		}},
		{"binary execute of an earlier prepare", func() error {
			rows, err := stmt.QueryContext(ctx, 1)
			if err == nil {
				rows.Close()
			}
			return err
		}},
		{"COM_INIT_DB", func() error { return raw.initDB("demo") }},
		// demo.t: the COM_INIT_DB above made demo current while it could.
		{"COM_FIELD_LIST", func() error { _, err := raw.fieldList("t"); return err }},
		{"COM_QUERY", func() error { _, err := raw.query("SELECT 1"); return err }},
	}
	codeOfAny := func(err error) uint16 { return max(code(err), wireCode(err)) }

	for _, c := range commands {
		require.NoError(t, c.run(), "%s works while the token is valid", c.name)
	}
	aliceAudit, multiAudit, rawAudit := rec.watch(aliceID), rec.watch(multiID), rec.watch(raw.id)

	clock.Add(11 * 60) // past exp and the plugin's leeway
	for _, c := range commands {
		err := c.run()
		assert.Equal(t, uint16(mysqlerr.ErAccessDenied), codeOfAny(err), "%s: %v", c.name, err)
		assert.ErrorContains(t, err, "reconnect with a new token", c.name)
	}

	// Each refusal is audited once, as an error with the plugin's reason.
	refused := func(t *testing.T, evs []auditEvent, want ...string) {
		t.Helper()
		assert.Equal(t, want, texts(evs))
		for _, ev := range evs {
			assert.False(t, ev.ok, ev.text)
			assert.Contains(t, ev.err, "reconnect with a new token", ev.text)
		}
	}
	refused(t, aliceAudit.next(),
		"SELECT 1", "SHOW DATABASES", "SET @a = 1", "SELECT COUNT(*) FROM information_schema.schemata", "USE demo",
		"PREPARE s FROM 'SELECT 1'", "SET ROLE NONE", "REVERT",
		"SELECT a FROM demo.t WHERE id = ?", // the refused COM_STMT_PREPARE: it will never run
		"SELECT a FROM demo.t WHERE id = ?", // the refused COM_STMT_EXECUTE
	)
	refused(t, multiAudit.next(), "SELECT 1") // the rest of a refused multi-statement never runs
	refused(t, rawAudit.next(), "USE `demo`", "SELECT * FROM `t` LIMIT 0;", "SELECT 1")
}

// queryArgs is query with arguments, which go-sql-driver sends over the binary
// protocol (COM_STMT_PREPARE, COM_STMT_EXECUTE).
func queryArgs(c *sql.Conn, q string, args ...any) ([][]string, error) {
	rows, err := c.QueryContext(context.Background(), q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, []string{v.String})
	}
	return out, rows.Err()
}

// Every statement is audited exactly once, whatever carried it: text,
// binary prepared statements (at each execution), SQL PREPARE and EXECUTE,
// multi-statement queries, refusals, and statements run with EXECUTE AS
// (with both identities).
func TestEveryStatementIsAuditedOnce(t *testing.T) {
	e, rec := startAudited(t)
	root := e.root()
	exec(t, root,
		"CREATE USER reader IDENTIFIED WITH mysql_native_password BY 'rpw'",
		"GRANT SELECT ON demo.t TO reader",
		"CREATE USER alice IDENTIFIED WITH mysql_native_password BY 'apw' ACCOUNT LOCK",
		"GRANT SELECT ON demo.* TO alice",
		// The gateway holds nothing on demo itself: what it reads there, it
		// reads as alice.
		"CREATE USER gateway IDENTIFIED WITH mysql_native_password BY 'gpw'",
		"GRANT PROXY ON 'alice'@'%' TO 'gateway'@'%'",
		"CREATE USER bob IDENTIFIED WITH mysql_native_password BY 'bpw'",
	)
	ctx := context.Background()
	gatewayAcct, aliceAcct := priv.Account{User: "gateway", Host: "%"}, priv.Account{User: "alice", Host: "%"}
	session := func(t *testing.T, user, pw string, opts ...dsnOpt) (*sql.Conn, *auditWatch) {
		t.Helper()
		c := login(t, e, user, pw, opts...)
		return c, rec.watch(rec.lastLogin(t, user))
	}
	type outcome struct {
		text string
		code uint16 // 0: success
	}
	outcomes := func(t *testing.T, evs []auditEvent) []outcome {
		t.Helper()
		out := []outcome{}
		for _, ev := range evs {
			assert.Equal(t, ev.ok, ev.code == 0, "%s: an error event carries the error: %q", ev.text, ev.err)
			out = append(out, outcome{ev.text, ev.code})
		}
		return out
	}

	t.Run("text", func(t *testing.T) {
		c, audit := session(t, "reader", "rpw")
		_, err := query(c, "SELECT a FROM demo.t WHERE id = 1")
		require.NoError(t, err)
		_, err = c.ExecContext(ctx, "INSERT INTO demo.t VALUES (5, 50, 500)")
		require.Equal(t, uint16(mysqlerr.ErTableAccessDenied), code(err), "%v", err)
		_, err = c.ExecContext(ctx, "CREATE USER z IDENTIFIED BY 'zsecret'")
		require.Equal(t, uint16(mysqlerr.ErSpecificAccess), code(err), "%v", err)
		_, err = c.ExecContext(ctx, "SELEC 1")
		syntax := code(err) // the engine's number for it, whichever it is
		require.NotZero(t, syntax, "%v", err)
		assert.Equal(t, []outcome{
			{"SELECT a FROM demo.t WHERE id = 1", 0},
			{"INSERT INTO demo.t VALUES (5, 50, 500)", mysqlerr.ErTableAccessDenied},
			{"CREATE USER z IDENTIFIED BY '<redacted>'", mysqlerr.ErSpecificAccess},
			{"SELEC 1", syntax},
		}, outcomes(t, audit.next()))
	})

	t.Run("binary prepared, once per execution", func(t *testing.T) {
		c, audit := session(t, "reader", "rpw")
		stmt, err := c.PrepareContext(ctx, "SELECT a FROM demo.t WHERE id = ?")
		require.NoError(t, err)
		defer stmt.Close()
		assert.Empty(t, audit.next(), "preparing is not running")
		for id := 1; id <= 3; id++ {
			var a int
			require.NoError(t, stmt.QueryRowContext(ctx, id%2+1).Scan(&a))
		}
		q := "SELECT a FROM demo.t WHERE id = ?"
		assert.Equal(t, []outcome{{q, 0}, {q, 0}, {q, 0}}, outcomes(t, audit.next()))

		// Refused: whether at prepare or at execute, it is reported once.
		_, err = c.ExecContext(ctx, "INSERT INTO demo.t VALUES (?, 60, 600)", 6)
		require.Equal(t, uint16(mysqlerr.ErTableAccessDenied), code(err), "%v", err)
		assert.Equal(t, []outcome{{"INSERT INTO demo.t VALUES (?, 60, 600)", mysqlerr.ErTableAccessDenied}}, outcomes(t, audit.next()))

		// authplug's own statements cannot be prepared; the refusal is
		// reported once, without the password.
		_, err = c.ExecContext(ctx, "SET PASSWORD = ?", "psecret")
		require.Equal(t, uint16(mysqlerr.ErUnsupportedPS), code(err), "%v", err)
		_, err = c.PrepareContext(ctx, "CREATE USER y IDENTIFIED BY 'ysecret'")
		require.Equal(t, uint16(mysqlerr.ErUnsupportedPS), code(err), "%v", err)
		assert.Equal(t, []outcome{
			{"<statement redacted: it could not be parsed and may hold a password>", mysqlerr.ErUnsupportedPS},
			{"CREATE USER y IDENTIFIED BY '<redacted>'", mysqlerr.ErUnsupportedPS},
		}, outcomes(t, audit.next()))
	})

	t.Run("SQL PREPARE and EXECUTE", func(t *testing.T) {
		c, audit := session(t, "reader", "rpw")
		exec(t, c,
			"PREPARE s FROM 'SELECT a FROM demo.t WHERE id = ?'",
			"SET @id = 2",
			"EXECUTE s USING @id",
			"EXECUTE s USING @id",
			"DEALLOCATE PREPARE s",
		)
		assert.Equal(t, []outcome{
			{"PREPARE s FROM 'SELECT a FROM demo.t WHERE id = ?'", 0},
			{"SET @id = 2", 0},
			{"EXECUTE s USING @id", 0},
			{"EXECUTE s USING @id", 0},
			{"DEALLOCATE PREPARE s", 0},
		}, outcomes(t, audit.next()))
	})

	t.Run("multi-statement", func(t *testing.T) {
		c, audit := session(t, "reader", "rpw", withMultiStatements)
		exec(t, c, "SELECT 1; SELECT a FROM demo.t WHERE id = 2;\nSET @x = 3")
		assert.Equal(t, []outcome{{"SELECT 1", 0}, {"SELECT a FROM demo.t WHERE id = 2", 0}, {"SET @x = 3", 0}}, outcomes(t, audit.next()))
		exec(t, c, "SELECT 4;; ")
		assert.Equal(t, []outcome{{"SELECT 4", 0}}, outcomes(t, audit.next()), "trailing delimiters are no statement")

		_, err := c.ExecContext(ctx, "SELECT 1; INSERT INTO demo.t VALUES (7, 70, 700); SELECT 2")
		require.Equal(t, uint16(mysqlerr.ErTableAccessDenied), code(err), "%v", err)
		assert.Equal(t, []outcome{{"SELECT 1", 0}, {"INSERT INTO demo.t VALUES (7, 70, 700)", mysqlerr.ErTableAccessDenied}},
			outcomes(t, audit.next()), "the statement after a refusal never runs")

		r, audit := session(t, "root", rootPassword, withTLS, withMultiStatements)
		exec(t, r, "CREATE USER m IDENTIFIED BY 'msecret'; DROP USER m; "+
			// The semicolons of a trigger's body do not end the statement.
			"CREATE TRIGGER demo.tr BEFORE INSERT ON demo.t FOR EACH ROW BEGIN SET NEW.a = NEW.a + 1; SET NEW.b = NEW.b + 1; END; "+
			"SELECT 3")
		assert.Equal(t, []outcome{
			{"CREATE USER m IDENTIFIED BY '<redacted>'", 0},
			{"DROP USER m", 0},
			{"CREATE TRIGGER demo.tr BEFORE INSERT ON demo.t FOR EACH ROW BEGIN SET NEW.a = NEW.a + 1; SET NEW.b = NEW.b + 1; END", 0},
			{"SELECT 3", 0},
		}, outcomes(t, audit.next()))
		exec(t, r, "DROP TRIGGER demo.tr")
	})

	t.Run("EXECUTE AS, with both identities", func(t *testing.T) {
		c, audit := session(t, "gateway", "gpw")
		type who struct{ account, effective priv.Account }
		identities := func(evs []auditEvent) []who {
			var out []who
			for _, ev := range evs {
				out = append(out, who{ev.account, ev.effective})
			}
			return out
		}
		asCaller, asAlice := who{gatewayAcct, gatewayAcct}, who{gatewayAcct, aliceAcct}

		_, err := query(c, "EXECUTE AS 'alice' SELECT a FROM demo.t WHERE id = 1")
		require.NoError(t, err)
		_, err = c.ExecContext(ctx, "EXECUTE AS 'alice' INSERT INTO demo.t VALUES (8, 80, 800)")
		require.Equal(t, uint16(mysqlerr.ErTableAccessDenied), code(err), "%v", err)
		_, err = query(c, "EXECUTE AS 'bob' SELECT 1")
		require.Equal(t, uint16(mysqlerr.ErSpecificAccess), code(err), "%v", err)
		_, err = query(c, "EXECUTE AS 'alice', 'bob' SELECT 1")
		require.Equal(t, uint16(mysqlerr.ErSyntax), code(err), "%v", err)
		_, err = c.ExecContext(ctx, "EXECUTE AS 'alice' CREATE USER q IDENTIFIED BY 'qsecret'")
		require.Equal(t, uint16(mysqlerr.ErSpecificAccess), code(err), "%v", err)
		evs := audit.next()
		assert.Equal(t, []outcome{
			{"SELECT a FROM demo.t WHERE id = 1", 0},
			{"INSERT INTO demo.t VALUES (8, 80, 800)", mysqlerr.ErTableAccessDenied},
			{"EXECUTE AS 'bob' SELECT 1", mysqlerr.ErSpecificAccess},
			{"EXECUTE AS 'alice', 'bob' SELECT 1", mysqlerr.ErSyntax},
			{"CREATE USER q IDENTIFIED BY '<redacted>'", mysqlerr.ErSpecificAccess},
		}, outcomes(t, evs))
		assert.Equal(t, []who{asAlice, asAlice, asCaller, asCaller, asAlice}, identities(evs))

		// The session form: each statement is reported with the identity it
		// ran as, binary prepared statements included.
		exec(t, c, "EXECUTE AS 'alice'")
		_, err = query(c, "SELECT a FROM demo.t WHERE id = 2")
		require.NoError(t, err)
		_, err = queryArgs(c, "SELECT a FROM demo.t WHERE id = ?", 2)
		require.NoError(t, err)
		exec(t, c, "REVERT")
		_, err = query(c, "SELECT 1")
		require.NoError(t, err)
		evs = audit.next()
		assert.Equal(t, []outcome{
			{"EXECUTE AS 'alice'", 0},
			{"SELECT a FROM demo.t WHERE id = 2", 0},
			{"SELECT a FROM demo.t WHERE id = ?", 0},
			{"REVERT", 0},
			{"SELECT 1", 0},
		}, outcomes(t, evs))
		assert.Equal(t, []who{asCaller, asAlice, asAlice, asAlice, asCaller}, identities(evs))
	})
}
