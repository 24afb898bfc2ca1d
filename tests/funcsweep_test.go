package tests

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The sweep runs every built-in function the engine registers, and the
// host's (which replace them by name), on hostile arguments: as an account
// with no privileges on constants, and as one that may only read a small
// table of hostile values inside GROUP BY, ORDER BY, WHERE, subqueries,
// aggregates and windows, where the engine's own goroutines evaluate them.
// It is the fence for engine upgrades: a statement fails it when its error
// shows a panic (the engine's handler answers 1105 "handler caught panic",
// the host's guard 1105 "internal error"), when the connection drops under
// it, when the server process dies, when it runs past sweepTimeout, and,
// for a wrong argument count, when the error is not MySQL's 1582.
//
// The server is examples/server in a child process whose address space is
// capped: a statement that kills the process is reported rather than
// taking the test with it, and one that allocates without bound cannot
// take the machine either.

const (
	// sweepTimeout bounds one statement; one past it is killed (KILL
	// QUERY) and reported.
	sweepTimeout = 5 * time.Second
	// sweepMaxArity is the most arguments a variadic function is given.
	sweepMaxArity = 3
	// sweepBatch is how many expressions one SELECT evaluates at once; a
	// SELECT that fails is run again one expression at a time.
	sweepBatch = 40
	// sweepWorkers run functions at once, each on sessions of its own.
	sweepWorkers = 3
	// sweepAddressSpace caps the child's virtual memory (KiB, ulimit -v).
	sweepAddressSpace = 4000000
)

// hostileArgs are the arguments every function gets in each position.
var hostileArgs = []string{
	"NULL", "0", "-1", "1.5", "TRUE",
	"1e308", "-1e308", "1e-308", "18446744073709551615", "-9223372036854775808", "4294967296",
	"99999999999999999999999999999999999999999999999999999999999999999",
	// NaN and infinities by the ways the engine makes them (MySQL makes
	// none: 0 with a warning for the strings, 1690 for the product).
	"'NaN'", "'inf'", "1e308*10", "-1e308*10", "LOG(0)",
	"''", "'a'", "'%'", "'😀'", "REPEAT('x', 1048576)",
	"X'FF'", "X'FFFE80C0'", "UNHEX(REPEAT('FF00', 4096))",
	"'['", `'{"a":'`, "'[1,2,3]'", `CAST('{"a":[1,{"b":null}]}' AS JSON)`, "REPEAT('[', 100000)",
	"'$[*]'", "'$[18446744073709551615]'", "'$[last-9223372036854775808]'",
	"'0000-00-00'", "'9999-12-31 23:59:59.999999'", "'2020-02-30'", "'-838:59:59'", "TIME '-838:59:59'",
	"'%Y%m%d%H%i%s%f%U%u%V%v%X%x%W%a%p%r%T%D%j%%'",
	"POINT(1e308, -1e308)", "'(a+)+$'", "'255.255.255.256'",
}

// coreHostile are the hostile arguments a function of several arguments
// gets in each position alone (all of hostileArgs go to all positions at
// once): fewer, to keep the sweep within a minute.
var coreHostile = []string{
	"NULL", "-1", "1e308", "18446744073709551615", "-9223372036854775808", "'NaN'", "1e308*10", "LOG(0)",
	"''", "X'FF'", "REPEAT('x', 1048576)", "'['", "'[1,2,3]'", `CAST('{"a":[1,{"b":null}]}' AS JSON)`,
	"'$[18446744073709551615]'", "'0000-00-00'", "POINT(1e308, -1e308)",
}

// sweepTable is the table the row contexts read: one row of NULLs, then
// hostile values of each column's type. They write to sweep.w.
const sweepTable = `CREATE TABLE sweep.t (i INT PRIMARY KEY, d DOUBLE, n DECIMAL(65,30), u BIGINT UNSIGNED,
	s LONGTEXT, b LONGBLOB, j JSON, dt DATETIME(6), tm TIME(6), g GEOMETRY)`

var sweepRows = []string{
	"(1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
	"(2, 0, 0, 0, '', '', 'null', '1000-01-01 00:00:00', '00:00:00', POINT(0, 0))",
	"(3, 1e308, 99999999999999999999999999999999999.999999999999999999999999999999, 18446744073709551615, " +
		"REPEAT('x', 100000), X'FF', CONCAT(REPEAT('[', 99), REPEAT(']', 99)), '9999-12-31 23:59:59.999999', '838:59:59', POINT(1e308, -1e308))",
	"(4, -1e308, -99999999999999999999999999999999999.999999999999999999999999999999, 1, " +
		`'[', UNHEX(REPEAT('FF00', 4096)), '{"a":{"b":[1,2]}}', '2020-02-29 12:00:00', '-838:59:59', ST_GeomFromText('LINESTRING(0 0, 1 1)'))`,
	"(5, 1e-308, 0.000000000000000000000000000001, 4294967296, 'NaN', X'00', '\"s\"', '1970-01-01 00:00:01', '-00:00:00.000001', ST_GeomFromText('POINT(1 1)', 4326))",
	"(6, -1, -1, 9223372036854775808, '%Y%m%d%H%i%s%f%U%u%V%v%X%x%W%a%p%r%T%D%j%%', '', '[1,2,3]', '2038-01-19 03:14:07', '12:00:00', POINT(-1, -1))",
	"(7, -0e0, 1.5, 2, '$.**.a', X'FFFE80C0', '{}', '2000-02-29 23:59:59.5', '00:00:01', POINT(1, 2))",
	"(8, 1.5, 0.5, 3, '😀', X'C0', '[]', '2020-01-31 10:11:12.5', '01:00:00', POINT(2, 3))",
}

// sweepColumns are sweep.t's columns but i.
var sweepColumns = []string{"d", "n", "u", "s", "b", "j", "dt", "tm", "g"}

// knownPanics are panics the sweep finds that the host does not correct,
// each with why. An entry that no statement hits any more fails the sweep
// too: the list says what is still open.
var knownPanics = []struct{ query, message, why string }{
	{"rank() OVER", "comparing uncomparable type",
		"RANK, DENSE_RANK and PERCENT_RANK compare a window's ORDER BY values with Go's ==, which panics on a BLOB or a JSON array; " +
			"the engine's window framer has no hook for the host (recovered: 1105)"},
	{"RANGE BETWEEN INTERVAL NULL", "nil pointer dereference",
		"a RANGE frame with a NULL interval (MySQL's 3586) dereferences nil in the engine's framer (recovered: 1105)"},
	{"CAST(1e308*10 AS", "Cannot create a Decimal from +Inf",
		"the engine's 1e308 * 10 is +Inf where MySQL answers 1690, and CAST(... AS DECIMAL) panics on it; the host corrects the functions, not the operators (recovered: 1105)"},
	{"CAST(-1e308*10 AS", "Cannot create a Decimal from -Inf", "as for +Inf"},
	{"json_value(", "internal error: interface conversion: interface {} is nil, not string",
		"JSON_VALUE's third argument (RETURNING's type) is read while the statement is parsed, before any host function; " +
			"a NULL one panics there (MySQL's grammar refuses it: 1064), and the host's guard answers 1105"},
}

// sweepServer is examples/server in a child process.
type sweepServer struct {
	t     *testing.T
	child *child
	root  *sql.DB // KILL QUERY and the process list, from any worker
}

func startSweepServer(t *testing.T) *sweepServer {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("the sweep caps the child's memory with /bin/sh's ulimit")
	}
	bin := filepath.Join(t.TempDir(), "capped-server")
	script := fmt.Sprintf("#!/bin/sh\nulimit -v %d || exit 1\nexec %q \"$@\"\n", sweepAddressSpace, buildServer(t))
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o700))
	s := &sweepServer{t: t}
	s.child = startChild(t, bin, nil, "--data-dir", filepath.Join(t.TempDir(), "data"), "--root-password", crashRootPassword)
	db, err := sql.Open("mysql", rootDSN(s.child.addr, "root", crashRootPassword))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s.root = db
	for _, q := range []string{
		"CREATE USER nopriv IDENTIFIED BY 'pw'",
		"CREATE USER reader IDENTIFIED BY 'pw'",
		"CREATE DATABASE sweep",
		sweepTable,
		"INSERT INTO sweep.t VALUES " + strings.Join(sweepRows, ", "),
		"CREATE TABLE sweep.w (id INT PRIMARY KEY AUTO_INCREMENT, v TINYINT)",
		"GRANT SELECT ON sweep.t TO reader",
		"GRANT INSERT ON sweep.w TO reader",
	} {
		_, err := db.ExecContext(t.Context(), q)
		require.NoError(t, err, q)
	}
	return s
}

// alive reports whether the child process still runs.
func (s *sweepServer) alive() bool {
	select {
	case <-s.child.done:
		return false
	default:
		return true
	}
}

// sweepSession is one account's session of a worker, replaced when a
// statement loses it.
type sweepSession struct {
	user string
	c    *sql.Conn
	id   int64
}

// session opens a session of user, as the test's goroutine does before
// the workers start.
func (s *sweepServer) session(t *testing.T, user string) *sweepSession {
	t.Helper()
	ss := &sweepSession{user: user}
	require.NoError(t, s.connect(ss))
	return ss
}

// connect (re)opens ss's session; it is closed when the test ends.
func (s *sweepServer) connect(ss *sweepSession) error {
	db, err := sql.Open("mysql", rootDSN(s.child.addr, ss.user, "pw"))
	if err != nil {
		return err
	}
	s.t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if ss.c, err = db.Conn(s.t.Context()); err != nil {
		return err
	}
	return ss.c.QueryRowContext(s.t.Context(), "SELECT CONNECTION_ID()").Scan(&ss.id)
}

// sweep is one run: the server, what failed, and the known panics hit.
type sweep struct {
	t          *testing.T
	srv        *sweepServer
	dead       atomic.Bool // the server died: the workers stop
	statements atomic.Int64
	mu         sync.Mutex
	findings   []string
	known      map[int]bool // knownPanics entries hit
}

// sweepWorker runs statements on sessions of its own.
type sweepWorker struct {
	w              *sweep
	t              *testing.T
	nopriv, reader *sweepSession
}

// record notes a statement that failed the sweep, unless it is a known
// panic.
func (w *sweep) record(q, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, k := range knownPanics {
		if strings.Contains(q, k.query) && strings.Contains(what, k.message) {
			w.known[i] = true
			return
		}
	}
	if len(q) > 300 {
		q = q[:300] + "..."
	}
	w.findings = append(w.findings, q+"\n\t"+what)
}

// run runs q as user, reading every row. It returns the statement's error
// and a description when the statement failed the sweep ("" otherwise).
// After a dropped connection or a timeout it opens a new session.
func (k *sweepWorker) run(user, q string) (error, string) {
	ss := k.nopriv
	if user == "reader" {
		ss = k.reader
	}
	srv := k.w.srv
	k.w.statements.Add(1)
	ctx, cancel := context.WithTimeout(k.t.Context(), sweepTimeout)
	defer cancel()
	err := drainRows(ctx, ss.c, q)
	switch {
	case err == nil:
		return nil, ""
	case ctx.Err() != nil && k.t.Context().Err() == nil:
		// The driver gives up on the connection; the server's statement
		// must end too.
		what := "ran past " + sweepTimeout.String()
		if _, kerr := srv.root.ExecContext(k.t.Context(), fmt.Sprintf("KILL QUERY %d", ss.id)); kerr != nil {
			what += fmt.Sprintf("; KILL QUERY: %v", kerr)
		}
		k.reconnect(ss)
		return err, what
	case isDropped(err):
		// A dying process may still be running when its connections end.
		select {
		case <-srv.child.done:
		case <-time.After(200 * time.Millisecond):
		}
		if srv.alive() {
			k.reconnect(ss)
			return err, "connection dropped: " + err.Error()
		}
		k.w.dead.Store(true)
		out := srv.child.out.String()
		if i := strings.Index(out, "fatal error:"); i >= 0 {
			out = out[i:]
		} else if i := strings.Index(out, "\npanic:"); i >= 0 {
			out = out[i:]
		}
		return err, "the server process died:\n" + out[:min(len(out), 3000)]
	case strings.Contains(strings.ToLower(err.Error()), "panic") || strings.Contains(err.Error(), "internal error"):
		return err, err.Error()
	}
	return err, ""
}

// reconnect replaces a session after a statement lost it, and waits
// (bounded) for the old one's statement to leave the process list. A
// session that cannot be replaced stops the sweep.
func (k *sweepWorker) reconnect(ss *sweepSession) {
	old := ss.id
	ss.c.Close()
	if err := k.w.srv.connect(ss); err != nil {
		k.w.record("(a new session of "+ss.user+")", "cannot log in after a lost session: "+err.Error())
		k.w.dead.Store(true)
		return
	}
	tick := time.NewTicker(50 * time.Millisecond) // polling the process list
	defer tick.Stop()
	timeout := time.After(sweepTimeout)
	for {
		var n int
		err := k.w.srv.root.QueryRowContext(k.t.Context(), "SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?", old).Scan(&n)
		if err != nil || n == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-timeout:
			k.w.record(fmt.Sprintf("(connection %d)", old), fmt.Sprintf("its statement still runs %s after it was killed", sweepTimeout))
			return
		}
	}
}

// isDropped reports whether err is the client's for a lost connection,
// not the server's answer (whose text may say "EOF" of a JSON document).
func isDropped(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return false
	}
	m := err.Error()
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		strings.Contains(m, "invalid connection") || strings.Contains(m, "connection reset") ||
		strings.Contains(m, "broken pipe") || strings.Contains(m, "EOF")
}

// drainRows runs q and reads all its rows.
func drainRows(ctx context.Context, c *sql.Conn, q string) error {
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	for i := range vals {
		vals[i] = new(sql.RawBytes)
	}
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// check runs q as user and records it if it fails the sweep; it returns
// q's error.
func (k *sweepWorker) check(user, q string) error {
	err, bad := k.run(user, q)
	if bad != "" {
		k.w.record(q, bad)
	}
	return err
}

// batch evaluates exprs as user in statements of up to size expressions
// (made by wrap from a select list), each expression alone after a
// statement that fails.
func (k *sweepWorker) batch(user string, exprs []string, size int, wrap func(list string) string) {
	for len(exprs) > 0 && !k.w.dead.Load() {
		chunk := exprs[:min(size, len(exprs))]
		exprs = exprs[len(chunk):]
		if k.check(user, wrap(strings.Join(chunk, ", "))) == nil || len(chunk) == 1 || k.w.dead.Load() {
			continue
		}
		for _, e := range chunk {
			k.check(user, wrap(e))
		}
	}
}

// sweepKind is how a function is called.
type sweepKind int

const (
	kindScalar sweepKind = iota
	kindAggregate
	kindWindow
)

// sweepFunc is one registered function.
type sweepFunc struct {
	name string
	kind sweepKind
}

// registeredFunctions are the engine's built-ins and the host's own, told
// apart by what the engine builds for them.
func registeredFunctions() []sweepFunc {
	var out []sweepFunc
	for _, f := range function.BuiltIns {
		kind := kindScalar
	arity:
		for n := range sweepMaxArity + 1 {
			args := make([]gmssql.Expression, n)
			for i := range args {
				args[i] = expression.NewLiteral(int64(1), types.Int64)
			}
			e, err := f.NewInstance(args)
			if err != nil {
				continue
			}
			switch e.(type) {
			case gmssql.Aggregation:
				kind = kindAggregate
			case gmssql.WindowAdaptableExpression:
				kind = kindWindow
			}
			break arity
		}
		out = append(out, sweepFunc{name: f.FunctionName(), kind: kind})
	}
	// The host's: LOAD_FILE is refused without FILE.
	out = append(out, sweepFunc{name: "load_file"})
	slices.SortFunc(out, func(a, b sweepFunc) int { return strings.Compare(a.name, b.name) })
	return out
}

// sweepSkip are the names the sweep cannot call as name(args): their
// syntax is their own (sweepSpecials has them).
var sweepSkip = map[string]string{
	"json_table": "a table function, FROM JSON_TABLE(doc, path COLUMNS (...))",
	"values":     "VALUES(col) only in INSERT ... ON DUPLICATE KEY UPDATE",
}

// baseArgs are the arguments in the positions that are not hostile, by the
// family a function's name puts it in: the hostile argument then reaches
// the function's work rather than a check of another argument.
func baseArgs(name string) []string {
	switch {
	case strings.HasPrefix(name, "json_"):
		return []string{`'{"a":[1,2,{"b":3}]}'`, "'$.a'", "'$.a[1]'"}
	case strings.HasPrefix(name, "st_"):
		return []string{"POINT(1, 2)", "POINT(3, 4)", "4326"}
	case strings.HasPrefix(name, "regexp_"):
		return []string{"'abcabc'", "'b'", "1"}
	case strings.Contains(name, "date") || strings.Contains(name, "time") || strings.Contains(name, "day") ||
		strings.Contains(name, "week") || strings.Contains(name, "month") || strings.Contains(name, "year"):
		return []string{"'2020-01-31 10:11:12.5'", "1", "'%Y-%m-%d'"}
	}
	return []string{"1", "'a'", "2"}
}

// callsOf are name's calls with n arguments: each hostile argument in
// all positions at once, and each of coreHostile in each position with the
// family's base arguments in the others.
func callsOf(name string, n int) []string {
	base := baseArgs(name)
	var out []string
	for _, h := range hostileArgs {
		if name == "sleep" && !endsAtOnce(h) {
			continue
		}
		args := make([]string, n)
		for i := range args {
			args[i] = h
		}
		out = append(out, callExpr(name, args))
		if n < 2 || !slices.Contains(coreHostile, h) {
			continue
		}
		for pos := range n {
			for i := range args {
				args[i] = base[i%len(base)]
			}
			args[pos] = h
			out = append(out, callExpr(name, args))
		}
	}
	return out
}

func callExpr(name string, args []string) string { return name + "(" + strings.Join(args, ", ") + ")" }

// endsAtOnce reports whether SLEEP(h) returns at once: a long sleep is no
// hang.
func endsAtOnce(h string) bool {
	switch h {
	case "NULL", "0", "-1", "1e-308", "-1e308", "-9223372036854775808", "'NaN'", "-1e308*10", "LOG(0)", "''", "'a'":
		return true
	}
	return false
}

// batchSize is how many calls of name one statement makes: each of the
// engine's REGEXP functions holds 64 MiB of ICU's WebAssembly memory for
// the whole statement, so that a batch of them would exhaust the child's
// address space rather than show a panic.
func batchSize(name string) int {
	if strings.HasPrefix(name, "regexp_") {
		return 1
	}
	return sweepBatch
}

// arities finds the argument counts name accepts (0 to sweepMaxArity),
// and records a wrong count answered with anything but 1582.
func (k *sweepWorker) arities(name string) []int {
	var ok []int
	for n := range sweepMaxArity + 2 {
		q := "SELECT " + callExpr(name, slices.Repeat([]string{"NULL"}, n))
		err := k.check("nopriv", q)
		if code(err) == 1582 {
			continue
		}
		if err != nil && isWrongCount(err) {
			k.w.record(q, "a wrong argument count answered "+err.Error()+", not 1582")
			continue
		}
		if n <= sweepMaxArity {
			ok = append(ok, n)
		}
	}
	return ok
}

func isWrongCount(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "argument") && (strings.Contains(m, "expected") || strings.Contains(m, "number") || strings.Contains(m, "count"))
}

// rowContexts are the places a scalar call is evaluated row by row, in the
// engine's iterators: %[1]s is the call. An INSERT's rows are read on the
// connection's own goroutine, a SELECT's on one the engine starts.
var rowContexts = []string{
	"INSERT INTO sweep.w (v) SELECT %[1]s IS NULL FROM sweep.t",
	"SELECT %[1]s AS r FROM sweep.t GROUP BY r ORDER BY r",
	"SELECT i FROM sweep.t WHERE %[1]s IS NOT NULL OR i > 0 ORDER BY %[1]s, i",
	"SELECT (SELECT %[1]s), i FROM sweep.t ORDER BY i DESC LIMIT 5",
	"SELECT i FROM sweep.t WHERE i IN (SELECT i FROM sweep.t AS x WHERE %[1]s IS NULL OR %[1]s IS NOT NULL)",
}

// scalarInRows evaluates name's n-argument call on every column of
// sweep.t, in one of rowContexts picked by name and n.
func (k *sweepWorker) scalarInRows(name string, n int) {
	if name == "sleep" {
		return // a column's value is a sleep as long as it says
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", name, n)
	ctx := rowContexts[h.Sum32()%uint32(len(rowContexts))]
	for _, c := range sweepColumns {
		args := slices.Repeat([]string{c}, n)
		if n > 1 {
			// The last argument from another row, so that hostile values
			// meet each other.
			args[n-1] = "(SELECT " + c + " FROM sweep.t AS o WHERE o.i = 9 - sweep.t.i)"
		}
		k.check("reader", fmt.Sprintf(ctx, callExpr(name, args)))
	}
}

// aggregateInRows runs aggregate name over every column of sweep.t,
// ungrouped, grouped, DISTINCT and as a window.
func (k *sweepWorker) aggregateInRows(name string, n int) {
	var calls []string
	for _, c := range sweepColumns {
		calls = append(calls, callExpr(name, slices.Repeat([]string{c}, n)))
	}
	k.batch("reader", calls, sweepBatch, func(l string) string { return "SELECT " + l + " FROM sweep.t" })
	k.batch("reader", calls, sweepBatch, func(l string) string {
		return "SELECT i % 3, " + l + " FROM sweep.t GROUP BY i % 3 ORDER BY 2"
	})
	var windows []string
	for _, c := range calls {
		windows = append(windows, c+" OVER (PARTITION BY i % 2 ORDER BY i ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)")
	}
	k.batch("reader", windows, sweepBatch, func(l string) string { return "SELECT " + l + " FROM sweep.t" })
	if n == 1 {
		var distinct []string
		for _, c := range sweepColumns {
			distinct = append(distinct, name+"(DISTINCT "+c+")")
		}
		k.batch("reader", distinct, sweepBatch, func(l string) string { return "SELECT " + l + " FROM sweep.t" })
	}
}

// windowInRows runs window function name with hostile arguments over
// sweep.t's rows, and on each column ordered by that column.
func (k *sweepWorker) windowInRows(name string, n int) {
	const over = " OVER (PARTITION BY i % 2 ORDER BY i)"
	if n > 0 {
		var exprs []string
		for _, e := range callsOf(name, n) {
			exprs = append(exprs, e+over)
		}
		k.batch("reader", exprs, sweepBatch, func(l string) string { return "SELECT " + l + " FROM sweep.t" })
	}
	var exprs []string
	for _, c := range sweepColumns {
		args := slices.Repeat([]string{c}, n)
		if n > 1 {
			args = append([]string{c}, slices.Repeat([]string{"1"}, n-1)...)
		}
		exprs = append(exprs, callExpr(name, args)+" OVER (PARTITION BY i % 2 ORDER BY "+c+")")
	}
	k.batch("reader", exprs, sweepBatch, func(l string) string { return "SELECT " + l + " FROM sweep.t" })
}

// sweepSpecials are calls whose syntax is their own, operators, and window
// frames; %[1]s is a hostile argument.
var sweepSpecials = []string{
	"SELECT * FROM JSON_TABLE(%[1]s, '$[*]' COLUMNS (a INT PATH '$', b JSON PATH '$', c FOR ORDINALITY)) AS jt",
	`SELECT * FROM JSON_TABLE('[1,{"a":2}]', %[1]s COLUMNS (a TEXT PATH '$')) AS jt`,
	`SELECT * FROM JSON_TABLE('[1,{"a":2}]', '$[*]' COLUMNS (a DOUBLE PATH '$.a' DEFAULT %[1]s ON EMPTY)) AS jt`,
	"SELECT CAST(%[1]s AS SIGNED), CAST(%[1]s AS UNSIGNED), CAST(%[1]s AS DECIMAL(65,30)), CAST(%[1]s AS DOUBLE), " +
		"CAST(%[1]s AS CHAR(3)), CAST(%[1]s AS BINARY(3)), CAST(%[1]s AS JSON), CAST(%[1]s AS DATETIME(6)), " +
		"CAST(%[1]s AS TIME(6)), CAST(%[1]s AS DATE), CAST(%[1]s AS YEAR), CONVERT(%[1]s USING latin1)",
	"SELECT EXTRACT(YEAR_MICROSECOND FROM %[1]s), EXTRACT(DAY_HOUR FROM %[1]s), EXTRACT(WEEK FROM %[1]s)",
	"SELECT DATE_ADD(%[1]s, INTERVAL 1 DAY), DATE_SUB('2020-01-01', INTERVAL %[1]s SECOND), " +
		"DATE_ADD('2020-01-01', INTERVAL %[1]s YEAR_MONTH), ADDDATE(%[1]s, %[1]s), %[1]s + INTERVAL %[1]s MICROSECOND",
	"SELECT TIMESTAMPDIFF(MICROSECOND, %[1]s, '2020-01-01'), TIMESTAMPADD(YEAR, %[1]s, '2020-01-01'), TIMESTAMPADD(SECOND, 1, %[1]s)",
	"SELECT TRIM(LEADING %[1]s FROM 'aab'), TRIM(BOTH 'a' FROM %[1]s), POSITION(%[1]s IN 'abc'), CHAR(%[1]s USING utf8mb4)",
	"SELECT GET_FORMAT(DATE, %[1]s), WEIGHT_STRING(%[1]s), %[1]s REGEXP 'a', 'a' RLIKE %[1]s, %[1]s LIKE %[1]s, %[1]s SOUNDS LIKE 'a'",
	"SELECT GROUP_CONCAT(%[1]s ORDER BY %[1]s SEPARATOR ','), JSON_ARRAYAGG(%[1]s), JSON_OBJECTAGG('k', %[1]s)",
	"SELECT COUNT(DISTINCT %[1]s, %[1]s), SUM(DISTINCT %[1]s), AVG(DISTINCT %[1]s)",
	"SELECT %[1]s MEMBER OF ('[1]'), 1 MEMBER OF (%[1]s), %[1]s -> '$.a', '{\"a\":1}' ->> %[1]s",
	"SELECT INTERVAL(%[1]s, 1, 2), %[1]s DIV %[1]s, %[1]s %% %[1]s, %[1]s << %[1]s, %[1]s >> 64, ~%[1]s, -%[1]s, %[1]s / 0",
	"SELECT NTILE(%[1]s) OVER (ORDER BY i), LAG(d, %[1]s) OVER (ORDER BY i), LEAD(s, 1, %[1]s) OVER (ORDER BY i) FROM sweep.t",
	"SELECT SUM(d) OVER (ORDER BY i ROWS BETWEEN %[1]s PRECEDING AND %[1]s FOLLOWING) FROM sweep.t",
	"SELECT COUNT(*) OVER (ORDER BY dt RANGE BETWEEN INTERVAL %[1]s DAY PRECEDING AND CURRENT ROW) FROM sweep.t",
	"SELECT SUM(i) OVER (ORDER BY d RANGE BETWEEN %[1]s PRECEDING AND %[1]s FOLLOWING) FROM sweep.t",
	"SELECT i FROM sweep.t ORDER BY i LIMIT %[1]s",
}

// TestBuiltinFunctionsNeverPanic: every function, on hostile arguments,
// answers a result or a MySQL error: no panic, no dropped connection, no
// dead process, nothing that runs past sweepTimeout; a wrong argument
// count is 1582.
func TestBuiltinFunctionsNeverPanic(t *testing.T) {
	if testing.Short() {
		t.Skip("the sweep runs some 20 000 statements on a server of its own")
	}
	w := &sweep{t: t, srv: startSweepServer(t), known: map[int]bool{}}
	started := time.Now()
	only := os.Getenv("AUTHPLUG_SWEEP_ONLY") // names, comma-separated: a shorter run while fixing one
	funcs := make(chan sweepFunc)
	var wg sync.WaitGroup
	for range sweepWorkers {
		k := &sweepWorker{w: w, t: t, nopriv: w.srv.session(t, "nopriv"), reader: w.srv.session(t, "reader")}
		wg.Go(func() {
			for f := range funcs {
				if w.dead.Load() {
					continue
				}
				k.function(f)
			}
		})
	}
	for _, f := range registeredFunctions() {
		if _, skip := sweepSkip[f.name]; skip || only != "" && !slices.Contains(strings.Split(only, ","), f.name) {
			continue
		}
		funcs <- f
	}
	close(funcs)
	wg.Wait()
	if only == "" && !w.dead.Load() {
		k := &sweepWorker{w: w, t: t, nopriv: w.srv.session(t, "nopriv"), reader: w.srv.session(t, "reader")}
		for _, q := range sweepSpecials {
			user := "nopriv"
			if strings.Contains(q, "sweep.t") {
				user = "reader"
			}
			for _, h := range hostileArgs {
				k.check(user, fmt.Sprintf(q, h))
			}
		}
	}
	t.Logf("%d statements in %s", w.statements.Load(), time.Since(started))
	for _, f := range w.findings {
		t.Error(f)
	}
	if only == "" && !w.dead.Load() {
		for i, k := range knownPanics {
			assert.True(t, w.known[i], "known panic no longer found, remove it from knownPanics: %q with %q", k.query, k.message)
		}
	}
}

// function sweeps one function: its argument counts, then its calls.
func (k *sweepWorker) function(f sweepFunc) {
	for _, n := range k.arities(f.name) {
		switch f.kind {
		case kindScalar:
			k.batch("nopriv", callsOf(f.name, n), batchSize(f.name), func(l string) string { return "SELECT " + l })
			k.scalarInRows(f.name, n)
		case kindAggregate:
			k.batch("nopriv", callsOf(f.name, n), sweepBatch, func(l string) string { return "SELECT " + l })
			k.aggregateInRows(f.name, n)
		case kindWindow:
			k.windowInRows(f.name, n)
		}
	}
}
