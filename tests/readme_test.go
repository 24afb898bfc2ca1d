package tests

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/servercmd"
)

// The README's SQL blocks are run, in order, against a fresh server started
// as the README starts it (servercmd with the sample OAuth extension, a new
// data directory, root's generated password), each block in a session of
// its own. A block's first line says whose session:
//
//	-- as root, with the password the server printed
//	-- as app (password 'secret')
//	-- as alice@example.com (token with scope 'select:demo')
//
// A password given once is kept for the user's later blocks; a token is
// minted with the server's dev IdP. Every statement ends with ';'. One that
// must fail says so in a comment on its line, `-- ERROR 1142`, and must fail
// with that number; every other must succeed. A block marked
// `<!-- run on: NAME -->` runs on another server, the one the README builds
// under that name (tests/thirdparty_test.go), and not on this one.

const readmePath = "../README.md"

// fencedBlock is one fenced code block of a Markdown document.
type fencedBlock struct {
	lang   string
	line   int    // line of the block's first line of content, from 1
	text   string // its content, without the fences
	marker string // an HTML comment on the line right before the fence, if any
}

// fencedBlocks returns doc's fenced blocks (``` fences) in order.
func fencedBlocks(doc string) ([]fencedBlock, error) {
	var out []fencedBlock
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		lang, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "```")
		if !ok {
			continue
		}
		b := fencedBlock{lang: strings.TrimSpace(lang), line: i + 2}
		if i > 0 {
			if m, ok := strings.CutPrefix(strings.TrimSpace(lines[i-1]), "<!--"); ok {
				b.marker = strings.TrimSpace(strings.TrimSuffix(m, "-->"))
			}
		}
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("line %d: a fence that is never closed", i+1)
		}
		b.text = strings.Join(lines[i+1:end], "\n")
		out = append(out, b)
		i = end
	}
	return out, nil
}

// sqlStmt is one statement of a block.
type sqlStmt struct {
	line    int // README line where it starts
	text    string
	wantErr uint16 // the error number it must fail with; 0: it must succeed
}

// sqlBlock is a README SQL block, parsed.
type sqlBlock struct {
	line     int
	user     string
	password string // given in the header; "" for the one already known
	scope    string // with token: the token's scope
	token    bool   // log in with a token from the dev IdP
	stmts    []sqlStmt
}

var (
	headerRE       = regexp.MustCompile(`^-- as (\S+?)(?: \((?:password '([^']*)'|token with scope '([^']*)')\))?(?:, .*)?$`)
	wantErrRE      = regexp.MustCompile(`\bERROR (\d{4})\b`)
	errNoSemicolon = errors.New("the statement does not end with ';'")
)

// parseSQLBlock reads b's header and splits its statements.
func parseSQLBlock(b fencedBlock) (sqlBlock, error) {
	first, _, _ := strings.Cut(b.text, "\n")
	m := headerRE.FindStringSubmatch(strings.TrimSpace(first))
	if m == nil {
		return sqlBlock{}, fmt.Errorf("README line %d: an SQL block must start with `-- as USER` (and a password or token in parentheses, if the test does not know it yet), not %q", b.line, first)
	}
	stmts, err := splitStatements(b.text, b.line)
	if err != nil {
		return sqlBlock{}, err
	}
	if len(stmts) == 0 {
		return sqlBlock{}, fmt.Errorf("README line %d: an SQL block with no statement", b.line)
	}
	return sqlBlock{line: b.line, user: m[1], password: m[2], scope: m[3], token: strings.Contains(first, "(token "), stmts: stmts}, nil
}

// splitStatements splits text, whose first line is README line line, at
// each ';' outside quotes and comments. A comment naming an error (ERROR
// 1142) belongs to the statement that ended earlier on its line, or else to
// the one it is in or, on a line of its own, the next one.
func splitStatements(text string, line int) ([]sqlStmt, error) {
	var (
		out     []sqlStmt
		cur     strings.Builder
		curLine int // line of cur's first non-space character
		curErr  uint16
		endLine = -1 // line where the last statement ended
		quote   rune
	)
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == '\\' && quote != '`' && i+1 < len(rs) {
				i++
				cur.WriteRune(rs[i])
			} else if r == quote {
				quote = 0
			}
		case r == '-' && i+2 < len(rs) && rs[i+1] == '-' && (rs[i+2] == ' ' || rs[i+2] == '\t'), r == '#':
			j := i
			for j < len(rs) && rs[j] != '\n' {
				j++
			}
			if m := wantErrRE.FindStringSubmatch(string(rs[i:j])); m != nil {
				n, _ := strconv.ParseUint(m[1], 10, 16)
				if strings.TrimSpace(cur.String()) == "" && endLine == line {
					out[len(out)-1].wantErr = uint16(n)
				} else {
					curErr = uint16(n)
				}
			}
			i = j - 1
		case r == ';':
			if s := strings.TrimSpace(cur.String()); s != "" {
				out = append(out, sqlStmt{line: curLine, text: s, wantErr: curErr})
				endLine = line
			}
			cur.Reset()
			curErr = 0
		default:
			if r == '\'' || r == '"' || r == '`' {
				quote = r
			}
			if strings.TrimSpace(cur.String()) == "" && r != ' ' && r != '\t' && r != '\n' {
				curLine = line
			}
			cur.WriteRune(r)
		}
		if r == '\n' {
			line++
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("README line %d: a quote (%c) that is never closed", curLine, quote)
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		return nil, fmt.Errorf("README line %d: %q: %w", curLine, s, errNoSemicolon)
	}
	if curErr != 0 {
		return nil, fmt.Errorf("README line %d: ERROR %d names no statement", line, curErr)
	}
	return out, nil
}

// readmeServer is a fresh server, as `go run ./examples/server` starts one.
type readmeServer struct {
	addr, dataDir string
	passwords     map[string]string // what the blocks have said so far
}

// readyWriter collects the server's log and closes ready once it listens.
type readyWriter struct {
	mu    sync.Mutex
	b     strings.Builder
	once  sync.Once
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), "authplug server listening") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

var (
	readmeListeningRE = regexp.MustCompile(`msg="authplug server listening" addr=(\S+)`)
	generatedRE       = regexp.MustCompile(`generated a password for root@localhost[^\n]* password=("(?:[^"\\]|\\.)*"|\S+)`)
)

// startReadmeServer runs servercmd, with the extensions this binary
// registers (the sample OAuth one, as in examples/server), on a new data
// directory and a free port, and stops it when t ends.
func startReadmeServer(t *testing.T) *readmeServer {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	log := &readyWriter{ready: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		done <- servercmd.Run(ctx, []string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--audit-log", filepath.Join(dir, "audit.log")}, io.Discard, log)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			assert.Equal(t, servercmd.ExitOK, code, "the server's exit code\n%s", log)
		case <-time.After(30 * time.Second):
			t.Errorf("the server did not stop within 30s")
		}
	})
	select {
	case <-log.ready:
	case code := <-done:
		done <- code
		t.Fatalf("the server exited (%d) before it listened:\n%s", code, log)
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not listen within 30s:\n%s", log)
	}
	addr := readmeListeningRE.FindStringSubmatch(log.String())
	require.NotNil(t, addr, "the listening address in the log:\n%s", log)
	return &readmeServer{addr: addr[1], dataDir: dir, passwords: map[string]string{"root": generatedRootPassword(t, log.String())}}
}

// generatedRootPassword is root's password as a fresh server's log shows it.
func generatedRootPassword(t *testing.T, log string) string {
	t.Helper()
	pw := generatedRE.FindStringSubmatch(log)
	require.NotNil(t, pw, "a fresh server prints root's generated password:\n%s", log)
	if !strings.HasPrefix(pw[1], `"`) {
		return pw[1]
	}
	password, err := strconv.Unquote(pw[1])
	require.NoError(t, err)
	return password
}

// run runs b in a new session and returns the first way it differs from
// what the README says.
func (s *readmeServer) run(ctx context.Context, b sqlBlock) error {
	c := mysql.NewConfig()
	// Over TLS, as the README's clients log in, so a plugin that takes a
	// cleartext secret (a token, an API key) is asked for it.
	c.User, c.Net, c.Addr, c.TLSConfig, c.Timeout = b.user, "tcp", s.addr, "skip-verify", 5*time.Second
	c.AllowCleartextPasswords = true
	switch {
	case b.token:
		dev, err := oauth.LoadDevIdP(s.dataDir)
		if err != nil {
			return err
		}
		tok, err := dev.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience, Subject: b.user, Scope: b.scope, TTL: 15 * time.Minute})
		if err != nil {
			return err
		}
		c.Passwd = tok
	case b.password != "":
		s.passwords[b.user] = b.password
		fallthrough
	default:
		pw, ok := s.passwords[b.user]
		if !ok {
			return fmt.Errorf("README line %d: no password known for %s: give it in the block's first line", b.line, b.user)
		}
		c.Passwd = pw
	}
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	sess, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("README line %d: login as %s: %w", b.line, b.user, err)
	}
	defer sess.Close()
	for _, st := range b.stmts {
		err := drain(sess.QueryContext(ctx, st.text))
		switch {
		case st.wantErr == 0 && err != nil:
			return fmt.Errorf("README line %d, as %s: %s: %w", st.line, b.user, st.text, err)
		case st.wantErr != 0 && err == nil:
			return fmt.Errorf("README line %d, as %s: %s: succeeded, but the README says it fails with %d", st.line, b.user, st.text, st.wantErr)
		case st.wantErr != 0 && code(err) != st.wantErr:
			return fmt.Errorf("README line %d, as %s: %s: got %v, the README says %d", st.line, b.user, st.text, err, st.wantErr)
		}
	}
	return nil
}

// drain reads a statement's rows, if any, to its end.
func drain(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	return errors.Join(rows.Err(), rows.Close())
}

// readmeSQL is every SQL block of the README that runs on the server
// named server (marked `<!-- run on: server -->`), parsed; server "" is the
// example server, whose blocks are not marked.
func readmeSQL(t *testing.T, server string) []sqlBlock {
	t.Helper()
	doc, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	blocks, err := fencedBlocks(string(doc))
	require.NoError(t, err)
	var out []sqlBlock
	for _, b := range blocks {
		on, _ := strings.CutPrefix(b.marker, "run on:")
		if b.lang != "sql" || strings.TrimSpace(on) != server {
			continue
		}
		sb, err := parseSQLBlock(b)
		require.NoError(t, err)
		out = append(out, sb)
	}
	return out
}

// Every SQL block of the README runs as written, in order, on a fresh
// server: what it says succeeds succeeds, and what it says fails fails with
// the number it says.
func TestREADMESQLBlocksRun(t *testing.T) {
	blocks := readmeSQL(t, "")
	require.NotEmpty(t, blocks, "README.md has no ```sql block: this test would check nothing")
	s := startReadmeServer(t)
	for _, b := range blocks {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.run(ctx, b)
		cancel()
		require.NoError(t, err, "the README's SQL block at line %d", b.line)
	}
	checkAuditSample(t, filepath.Join(s.dataDir, "audit.log"))
}

// checkAuditSample checks the README's sample audit lines (the JSON block
// marked `<!-- audit: ... -->`) against the audit log the SQL blocks wrote
// at path: each must be one of its lines, with the same fields and values,
// where the README's "..." stands for any value. A connection's ID must be
// a number, but is not compared: it counts every session opened before.
func checkAuditSample(t *testing.T, path string) {
	t.Helper()
	doc, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	blocks, err := fencedBlocks(string(doc))
	require.NoError(t, err)
	var want []map[string]any
	for _, b := range blocks {
		if !strings.HasPrefix(b.marker, "audit:") {
			continue
		}
		for i, line := range strings.Split(b.text, "\n") {
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), "README line %d", b.line+i)
			want = append(want, rec)
		}
	}
	require.NotEmpty(t, want, "README.md has no audit sample (a ```json block marked <!-- audit: ... -->)")
	// The server writes a statement's line as the statement ends; poll,
	// bounded, rather than assume it is there when the client has its answer.
	var missing []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		written, err := os.ReadFile(path)
		require.NoError(t, err)
		var got []map[string]any
		for line := range strings.Lines(string(written)) {
			if !strings.HasSuffix(line, "\n") {
				break // being written
			}
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), "audit line %q", line)
			got = append(got, rec)
		}
		missing = missing[:0]
		for _, w := range want {
			if !slices.ContainsFunc(got, func(g map[string]any) bool { return auditLineMatches(w, g) }) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the README's audit lines %v are not among those the server wrote:\n%s", missing, written)
		}
		<-tick.C
	}
}

// auditLineMatches reports whether the written audit record got is the
// README's want.
func auditLineMatches(want, got map[string]any) bool {
	if len(want) != len(got) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			return false
		case w == "...":
		case k == "connection_id":
			if _, ok := g.(float64); !ok {
				return false
			}
		case w != g:
			return false
		}
	}
	return true
}

// The runner fails a block that fails, or that fails otherwise than its
// comment says, or that succeeds where it says it fails.
func TestREADMERunnerRefusesWhatTheREADMEDoesNotSay(t *testing.T) {
	s := startReadmeServer(t)
	block := func(text string) sqlBlock {
		t.Helper()
		b, err := parseSQLBlock(fencedBlock{lang: "sql", line: 1, text: text})
		require.NoError(t, err)
		return b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.run(ctx, block("-- as root, with the password the server printed\nALTER USER USER() IDENTIFIED BY 'pw';")))
	s.passwords["root"] = "pw"

	err := s.run(ctx, block("-- as root\nSELECT * FROM demo.nope;"))
	assert.ErrorContains(t, err, "README line 2, as root: SELECT * FROM demo.nope")
	assert.Equal(t, uint16(1146), code(err))

	err = s.run(ctx, block("-- as root\nSELECT 1;  -- ERROR 1142"))
	assert.ErrorContains(t, err, "succeeded, but the README says it fails with 1142")

	err = s.run(ctx, block("-- as root\nSELECT * FROM demo.nope;  -- ERROR 1142"))
	assert.ErrorContains(t, err, "the README says 1142")

	err = s.run(ctx, block("-- as nobody\nSELECT 1;"))
	assert.ErrorContains(t, err, "no password known for nobody")

	err = s.run(ctx, block("-- as root (password 'wrong')\nSELECT 1;"))
	assert.Equal(t, uint16(1045), code(err), "%v", err)
	s.passwords["root"] = "pw"

	assert.NoError(t, s.run(ctx, block("-- as root\nSELECT 'a;b' AS `c;d`, \"e'f\";  SELECT * FROM demo.nope;  -- ERROR 1146")))
}

func TestREADMEBlockParsing(t *testing.T) {
	b, err := parseSQLBlock(fencedBlock{lang: "sql", line: 10, text: strings.Join([]string{
		"-- as app (password 'se;cret')",
		"CREATE USER x;  GRANT SELECT ON d.* TO x;  -- ERROR 1044: the grant fails",
		"SELECT 'it''s -- not a comment; nor this';",
		"-- ERROR 1142 names the statement after it",
		"SELECT",
		"  a FROM t;",
	}, "\n")})
	require.NoError(t, err)
	assert.Equal(t, "app", b.user)
	assert.Equal(t, "se;cret", b.password)
	assert.Equal(t, []sqlStmt{
		{line: 11, text: "CREATE USER x"},
		{line: 11, text: "GRANT SELECT ON d.* TO x", wantErr: 1044},
		{line: 12, text: "SELECT 'it''s -- not a comment; nor this'"},
		{line: 14, text: "SELECT\n  a FROM t", wantErr: 1142},
	}, b.stmts)

	tok, err := parseSQLBlock(fencedBlock{lang: "sql", line: 1, text: "-- as alice@example.com (token with scope 'select:demo')\nSELECT 1;"})
	require.NoError(t, err)
	assert.True(t, tok.token)
	assert.Equal(t, "alice@example.com", tok.user)
	assert.Equal(t, "select:demo", tok.scope)

	for text, want := range map[string]string{
		"CREATE USER x;":                   "must start with `-- as USER`",
		"-- as root\nSELECT 1":             "does not end with ';'",
		"-- as root\nSELECT 'a;":           "never closed",
		"-- as root":                       "no statement",
		"-- as root\n-- ERROR 1142\n":      "names no statement",
		"-- as root (passwd 'x')\nSELECT;": "must start with `-- as USER`",
	} {
		_, err := parseSQLBlock(fencedBlock{lang: "sql", line: 1, text: text})
		assert.ErrorContains(t, err, want, "%q", text)
	}

	_, err = fencedBlocks("text\n```sql\nSELECT 1;\n")
	assert.ErrorContains(t, err, "never closed")
}

// Every Go block of the README is marked: `<!-- snippet: PATH -->` on the
// line before its fence, and then it is found, line for line (under one
// indentation), in that file of the repository, which compiles (an
// example_test.go, run as a test); or `<!-- file: PATH -->`, a file of the
// modules tests/thirdparty_test.go builds; or `<!-- not compiled: WHY -->`.
func TestREADMEGoSnippetsAreFromCompiledFiles(t *testing.T) {
	doc, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	blocks, err := fencedBlocks(string(doc))
	require.NoError(t, err)
	snippets := 0
	for _, b := range blocks {
		if b.lang != "go" {
			continue
		}
		if strings.HasPrefix(b.marker, "not compiled:") || strings.HasPrefix(b.marker, "file:") {
			continue // a file of the third-party modules, built by TestThirdPartyPluginFromREADME
		}
		path, ok := strings.CutPrefix(b.marker, "snippet: ")
		if !assert.True(t, ok, "README line %d: a Go block needs `<!-- snippet: PATH -->`, `<!-- file: PATH -->` or `<!-- not compiled: WHY -->` on the line before its fence", b.line-1) {
			continue
		}
		src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(strings.TrimSpace(path))))
		if !assert.NoError(t, err, "README line %d", b.line-1) {
			continue
		}
		assert.True(t, containsIndented(string(src), b.text), "README line %d: the block is not in %s as it is written there", b.line, path)
		snippets++
	}
	assert.NotZero(t, snippets, "no Go block of the README is checked against the code")
}

// containsIndented reports whether snippet's lines are consecutive lines of
// src, each with the same indentation added (blank lines aside).
func containsIndented(src, snippet string) bool {
	lines := strings.Split(src, "\n")
	want := strings.Split(strings.TrimRight(snippet, "\n"), "\n")
	for i := range lines {
		indent, ok := strings.CutSuffix(lines[i], want[0])
		if !ok || strings.TrimSpace(indent) != "" || i+len(want) > len(lines) {
			continue
		}
		match := true
		for j, w := range want {
			got := lines[i+j]
			if w == "" && strings.TrimSpace(got) == "" {
				continue
			}
			if got != indent+w {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
