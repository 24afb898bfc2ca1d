package tests

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/examples/mcpgateway/gateway"
	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
)

// gatewayEnv is a server with the oauth plugin and an audit trail, and an
// MCP gateway in front of it that trusts the same tokens (one Verifier).
type gatewayEnv struct {
	e   *env
	dev *oauth.DevIdP
	// other is a second trusted issuer (otherIssuer), whose key has the
	// dev IdP's kid: its subjects are not account names in impersonate
	// mode, and its tokens log in to no account bound to the dev issuer.
	other *oauth.DevIdP
	audit *syncBuffer
	url   string // the gateway's /mcp
}

func startGateway(t *testing.T, mode gateway.Mode) *gatewayEnv {
	t.Helper()
	dev, err := oauth.LoadDevIdP(t.TempDir())
	require.NoError(t, err)
	fk, err := oauth.NewFileKeys(dev.JWKSPath(), 0, nil)
	require.NoError(t, err)
	t.Cleanup(fk.Close)
	other, err := oauth.LoadDevIdP(t.TempDir())
	require.NoError(t, err)
	ofk, err := oauth.NewFileKeys(other.JWKSPath(), 0, nil)
	require.NoError(t, err)
	t.Cleanup(ofk.Close)
	v, err := oauth.NewVerifier(context.Background(), oauth.Config{Audience: oauth.DefaultAudience, Issuers: []oauth.IssuerConfig{
		{Issuer: oauth.DevIssuer, Keys: fk}, {Issuer: otherIssuer, Keys: ofk},
	}})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	audit := &syncBuffer{}
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("oauth",
		extension.WithCustomAuthPlugins(v.Plugin()),
		extension.WithSessionHandlerFactory(oauth.NewAuditor(audit).Handler)))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	bind := `IDENTIFIED WITH authentication_oauth AS '{"issuer":"authplug-dev","scopes":"optional"}'`
	exec(t, e.root(),
		"CREATE USER mcp_gateway IDENTIFIED WITH mysql_native_password BY 'gw-secret'",
		"CREATE USER alice "+bind,
		"GRANT SELECT ON demo.* TO alice",
		"GRANT PROXY ON 'alice'@'%' TO 'mcp_gateway'@'%'",
		// bob may read demo too, but the gateway may not act as him.
		"CREATE USER bob "+bind,
		"GRANT SELECT ON demo.* TO bob",
	)
	db := mysql.NewConfig()
	db.Net, db.Addr, db.TLSConfig, db.Timeout = "tcp", e.addr, "skip-verify", 5*time.Second
	if mode == gateway.Impersonate {
		db.User, db.Passwd, db.AllowNativePasswords = "mcp_gateway", "gw-secret", true
	}
	g, err := gateway.New(gateway.Config{Mode: mode, DB: db, Verifier: v, Issuer: oauth.DevIssuer, Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { g.Close() })
	hs := httptest.NewServer(g.Handler())
	t.Cleanup(hs.Close)
	return &gatewayEnv{e: e, dev: dev, other: other, audit: audit, url: hs.URL + "/mcp"}
}

const otherIssuer = "https://other.example"

func (ge *gatewayEnv) token(t *testing.T, r oauth.TokenRequest) string {
	t.Helper()
	r.Issuer, r.Audience = cmpOr(r.Issuer, oauth.DevIssuer), cmpOr(r.Audience, oauth.DefaultAudience)
	if r.TTL == 0 {
		r.TTL = 10 * time.Minute
	}
	idp := ge.dev
	if r.Issuer == otherIssuer {
		idp = ge.other
	}
	tok, err := idp.Mint(r)
	require.NoError(t, err)
	return tok
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// session connects an MCP client, with the SDK's streamable transport,
// presenting token on every request.
func (ge *gatewayEnv) session(t *testing.T, token string) (*mcp.ClientSession, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "authplug-test", Version: "0"}, nil)
	s, err := c.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint: ge.url, HTTPClient: &http.Client{Transport: bearer{token}}, DisableStandaloneSSE: true, MaxRetries: -1,
	}, nil)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func (ge *gatewayEnv) sessionFor(t *testing.T, sub string) *mcp.ClientSession {
	t.Helper()
	s, err := ge.session(t, ge.token(t, oauth.TokenRequest{Subject: sub}))
	require.NoError(t, err)
	return s
}

// call runs a tool and returns its structured result.
func call(t *testing.T, s *mcp.ClientSession, tool string, args map[string]any) gateway.Result {
	t.Helper()
	res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: tool, Arguments: args})
	require.NoError(t, err)
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out gateway.Result
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	assert.Equal(t, out.Error != nil, res.IsError, "IsError goes with the error")
	if out.Error != nil {
		require.NotEmpty(t, res.Content)
		text, _ := res.Content[0].(*mcp.TextContent)
		require.NotNil(t, text)
		assert.Contains(t, text.Text, "ERROR ", "the text carries the error number too")
	}
	return out
}

func errCode(r gateway.Result) uint16 {
	if r.Error == nil {
		return 0
	}
	return r.Error.Code
}

func sqlQuery(q string) map[string]any { return map[string]any{"sql": q} }

// auditRecords are the audit lines so far.
func (ge *gatewayEnv) auditRecords(t *testing.T) []oauth.Record {
	t.Helper()
	var out []oauth.Record
	for _, line := range strings.Split(strings.TrimSpace(ge.audit.String()), "\n") {
		if line == "" {
			continue
		}
		var r oauth.Record
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		out = append(out, r)
	}
	return out
}

func (ge *gatewayEnv) statements(t *testing.T, match func(oauth.Record) bool) []oauth.Record {
	t.Helper()
	var out []oauth.Record
	for _, r := range ge.auditRecords(t) {
		if r.Event == "statement" && match(r) {
			out = append(out, r)
		}
	}
	return out
}

func TestMCPGatewayImpersonate(t *testing.T) {
	ge := startGateway(t, gateway.Impersonate)
	alice := ge.sessionFor(t, "alice")

	t.Run("allowed call, audited with both identities", func(t *testing.T) {
		r := call(t, alice, "query", sqlQuery("SELECT a FROM demo.t WHERE id = 1"))
		require.Nil(t, r.Error)
		assert.Equal(t, []string{"a"}, r.Columns)
		require.Len(t, r.Rows, 1)
		assert.Equal(t, "10", *r.Rows[0][0])

		recs := ge.statements(t, func(r oauth.Record) bool { return r.Statement == "SELECT a FROM demo.t WHERE id = 1" })
		require.Len(t, recs, 1, "one audit line per call")
		assert.Equal(t, "'mcp_gateway'@'%'", recs[0].Account, "the gateway logged in")
		assert.Equal(t, "'alice'@'%'", recs[0].EffectiveAccount, "the call ran as alice")
		assert.Equal(t, "success", recs[0].Outcome)

		r = call(t, alice, "query", sqlQuery("SELECT CURRENT_USER(), USER()"))
		require.Nil(t, r.Error)
		assert.Equal(t, "alice@%", *r.Rows[0][0])
		assert.True(t, strings.HasPrefix(*r.Rows[0][1], "mcp_gateway@"), *r.Rows[0][1])
	})
	t.Run("list_tables", func(t *testing.T) {
		r := call(t, alice, "list_tables", map[string]any{"database": "demo"})
		require.Nil(t, r.Error)
		require.NotEmpty(t, r.Rows)
		assert.Equal(t, "t", *r.Rows[0][0])
		r = call(t, alice, "list_tables", map[string]any{"database": "mysql"})
		assert.Equal(t, uint16(1044), errCode(r), "%+v", r.Error)
		r = call(t, alice, "list_tables", map[string]any{"database": "demo` FROM x; DROP TABLE demo.t; --"})
		assert.NotZero(t, errCode(r), "a database name is one quoted identifier")
	})
	t.Run("refused by the user's grants: 1142", func(t *testing.T) {
		r := call(t, alice, "query", sqlQuery("INSERT INTO demo.t VALUES (3, 30, 300)"))
		assert.Equal(t, uint16(1142), errCode(r), "%+v", r.Error)
		recs := ge.statements(t, func(r oauth.Record) bool { return strings.HasPrefix(r.Statement, "INSERT INTO demo.t") })
		require.Len(t, recs, 1)
		assert.Equal(t, "error", recs[0].Outcome)
		assert.Equal(t, "'alice'@'%'", recs[0].EffectiveAccount)
	})
	t.Run("no PROXY grant for the user: 1227", func(t *testing.T) {
		bob := ge.sessionFor(t, "bob")
		r := call(t, bob, "query", sqlQuery("SELECT a FROM demo.t"))
		assert.Equal(t, uint16(1227), errCode(r), "%+v", r.Error)
		assert.Contains(t, r.Error.Message, "PROXY")
		ghost := ge.sessionFor(t, "ghost")
		assert.Equal(t, uint16(1227), errCode(call(t, ghost, "query", sqlQuery("SELECT 1"))), "no account at all")
	})
	t.Run("one statement, and nothing that changes identity or the connection", func(t *testing.T) {
		reached := func(r oauth.Record) bool {
			return !strings.HasPrefix(r.Statement, "SHOW TABLES") && (strings.Contains(r.Statement, "DROP") ||
				strings.Contains(r.Statement, "@x") || strings.HasPrefix(r.Statement, "USE"))
		}
		// Other subtests' statements (a hostile subject's EXECUTE AS) are
		// theirs: only this one's count.
		earlier := len(ge.statements(t, reached))
		for q, want := range map[string]uint16{
			"SELECT 1; DROP TABLE demo.t":             1064,
			"SELECT a FROM demo.t; SELECT 1":          1064,
			"EXECUTE AS 'mcp_gateway' SELECT 1":       1235,
			"EXECUTE AS 'bob'":                        1235,
			"REVERT":                                  1235,
			"SET ROLE ALL":                            1064,
			"SET @x = (SELECT a FROM demo.t LIMIT 1)": 1235,
			"SELECT a INTO @x FROM demo.t LIMIT 1":    1235,
			"USE demo":                                1235,
			"START TRANSACTION":                       1235,
			"PREPARE s FROM 'SELECT 1'":               1235,
			"SELECT LAST_INSERT_ID()":                 1235,
		} {
			r := call(t, alice, "query", sqlQuery(q))
			assert.Equal(t, want, errCode(r), "%s: %+v", q, r.Error)
		}
		assert.Empty(t, ge.statements(t, reached)[earlier:], "refused statements never reach the server")
	})
	t.Run("hostile subjects are one quoted name and run nothing", func(t *testing.T) {
		before := len(ge.statements(t, func(r oauth.Record) bool { return r.Outcome == "success" }))
		for _, sub := range []string{
			"alice'", "alice''", `alice\`, `alice\'`, `al'ice`,
			"'; DROP TABLE demo.t; --", "alice' SELECT 1; DROP TABLE demo.t; --",
			"alice'@'%", `alice\'@'%' SELECT 1 #`, "alice\x00", "\x00alice",
			"alice\n", "alice`", "`alice`", strings.Repeat("a'", 4000),
		} {
			s := ge.sessionFor(t, sub)
			r := call(t, s, "query", sqlQuery("SELECT a FROM demo.t WHERE id = 1"))
			assert.Equal(t, uint16(1227), errCode(r), "subject %q: %+v", sub, r.Error)
		}
		after := ge.statements(t, func(r oauth.Record) bool { return r.Outcome == "success" })
		assert.Len(t, after, before, "no statement ran for a hostile subject")
		r := call(t, alice, "query", sqlQuery("SELECT COUNT(*) FROM demo.t"))
		require.Nil(t, r.Error, "demo.t is still there")
		assert.Equal(t, "2", *r.Rows[0][0])
	})
}

// Only a valid token of a trusted issuer gets through, with a 401 before
// any MCP message is read otherwise.
func TestMCPGatewayBearer(t *testing.T) {
	ge := startGateway(t, gateway.Impersonate)
	postTo := func(auth, session, body string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ge.url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	post := func(auth string) int {
		return postTo(auth, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"0"}}}`)
	}
	good := ge.token(t, oauth.TokenRequest{Subject: "alice"})
	assert.Equal(t, http.StatusOK, post("Bearer "+good))
	for name, auth := range map[string]string{
		"no bearer":    "",
		"basic":        "Basic YWxpY2U6eA==",
		"empty bearer": "Bearer ",
		"garbage":      "Bearer not.a.token",
		"wrong issuer": "Bearer " + ge.token(t, oauth.TokenRequest{Subject: "alice", Issuer: "https://evil.example"}),
		// Trusted, with a valid signature, but its "alice" is not the
		// account alice: only the dev issuer's subjects are account names.
		"another trusted issuer": "Bearer " + ge.token(t, oauth.TokenRequest{Subject: "alice", Issuer: otherIssuer}),
		"wrong audience":         "Bearer " + ge.token(t, oauth.TokenRequest{Subject: "alice", Audience: "other"}),
		"expired":                "Bearer " + ge.token(t, oauth.TokenRequest{Subject: "alice", TTL: -time.Minute}),
		"no subject":             "Bearer " + ge.token(t, oauth.TokenRequest{}),
		"tampered":               "Bearer " + good[:len(good)-4] + "AAAA",
		"another's key":          "Bearer " + otherKeyToken(t),
		"two credentials":        "Bearer " + good + " " + good,
	} {
		assert.Equal(t, http.StatusUnauthorized, post(auth), name)
	}
	// A session is its user's: another user's valid token cannot use it.
	alice := ge.sessionFor(t, "alice")
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 1"}}}`
	assert.Equal(t, http.StatusForbidden, postTo("Bearer "+ge.token(t, oauth.TokenRequest{Subject: "bob"}), alice.ID(), call))
	// The SDK's client gets no session without a valid token.
	_, err := ge.session(t, ge.token(t, oauth.TokenRequest{Subject: "alice", Issuer: "https://evil.example"}))
	assert.Error(t, err)
	assert.NotContains(t, ge.e.logs.String(), good, "tokens never reach the log")
}

func otherKeyToken(t *testing.T) string {
	t.Helper()
	other, err := oauth.LoadDevIdP(t.TempDir())
	require.NoError(t, err)
	tok, err := other.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience, Subject: "alice", TTL: time.Minute})
	require.NoError(t, err)
	return tok
}

// Passthrough: the bearer is the user's own password; the server sees the
// user, and the gateway needs no grant.
func TestMCPGatewayPassthrough(t *testing.T) {
	ge := startGateway(t, gateway.Passthrough)
	alice := ge.sessionFor(t, "alice")
	r := call(t, alice, "query", sqlQuery("SELECT CURRENT_USER(), a FROM demo.t WHERE id = 2"))
	require.Nil(t, r.Error)
	assert.Equal(t, "alice@%", *r.Rows[0][0])
	assert.Equal(t, "20", *r.Rows[0][1])
	recs := ge.statements(t, func(r oauth.Record) bool { return strings.HasPrefix(r.Statement, "SELECT CURRENT_USER(), a") })
	require.Len(t, recs, 1)
	assert.Equal(t, "'alice'@'%'", recs[0].Account, "the server saw alice herself")
	assert.Empty(t, recs[0].EffectiveAccount)

	assert.Equal(t, uint16(1142), errCode(call(t, alice, "query", sqlQuery("INSERT INTO demo.t VALUES (3, 30, 300)"))))
	// bob holds no PROXY grant and needs none here.
	bob := ge.sessionFor(t, "bob")
	assert.Nil(t, call(t, bob, "query", sqlQuery("SELECT a FROM demo.t WHERE id = 1")).Error)
	// Another trusted issuer's alice: alice's binding names the dev issuer.
	otherAlice, err := ge.session(t, ge.token(t, oauth.TokenRequest{Subject: "alice", Issuer: otherIssuer}))
	require.NoError(t, err, "the gateway trusts the issuer")
	assert.Equal(t, uint16(1045), errCode(call(t, otherAlice, "query", sqlQuery("SELECT 1"))))
	// No account for the subject: the login fails.
	ghost := ge.sessionFor(t, "ghost")
	assert.Equal(t, uint16(1045), errCode(call(t, ghost, "query", sqlQuery("SELECT 1"))))
	// The token's scopes narrow the session, as at any token login.
	narrow, err := ge.session(t, ge.token(t, oauth.TokenRequest{Subject: "alice", Scope: "select:demo.other"}))
	require.NoError(t, err)
	assert.Equal(t, uint16(1142), errCode(call(t, narrow, "query", sqlQuery("SELECT a FROM demo.t"))))
	assert.Equal(t, uint16(1235), errCode(call(t, alice, "query", sqlQuery("SET @x = 1"))), "the same one-statement policy")
	assert.Empty(t, ge.statements(t, func(r oauth.Record) bool { return r.User == "mcp_gateway" }), "the gateway account is never used")
}

// One user cannot take every connection: calls beyond the per-user limit
// are refused at once (1203), and another user's call runs meanwhile. The
// slow calls are SLEEP: anything the user's grants allow may be slow.
func TestMCPGatewayOneUserCannotHoldEveryConnection(t *testing.T) {
	for _, mode := range []gateway.Mode{gateway.Impersonate, gateway.Passthrough} {
		t.Run(string(mode), func(t *testing.T) {
			ge := startGateway(t, mode)
			alice := ge.sessionFor(t, "alice")
			bob := ge.sessionFor(t, "bob")
			if mode == gateway.Impersonate {
				exec(t, ge.e.root(), "GRANT PROXY ON 'bob'@'%' TO 'mcp_gateway'@'%'")
			}
			const tries = gateway.DefaultMaxCallsPerUser + 3
			// Passthrough pools are per token: a user with many tokens is
			// still one user.
			sessions := []*mcp.ClientSession{alice}
			for range tries - 1 {
				if mode == gateway.Passthrough {
					sessions = append(sessions, ge.sessionFor(t, "alice"))
				} else {
					sessions = append(sessions, alice)
				}
			}
			codes := make(chan uint16, tries)
			for _, s := range sessions {
				go func() {
					res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "query", Arguments: sqlQuery("SELECT SLEEP(4)")})
					if err != nil {
						codes <- 1
						return
					}
					raw, _ := json.Marshal(res.StructuredContent)
					var out gateway.Result
					_ = json.Unmarshal(raw, &out)
					codes <- errCode(out)
				}()
			}
			// The refused calls come back first, before any sleep ends.
			for range tries - gateway.DefaultMaxCallsPerUser {
				select {
				case c := <-codes:
					assert.Equal(t, uint16(1203), c, "a call beyond alice's limit")
				case <-time.After(3 * time.Second):
					t.Fatal("alice's calls beyond her limit were not refused at once")
				}
			}
			r := call(t, bob, "query", sqlQuery("SELECT CURRENT_USER()"))
			require.Nil(t, r.Error, "bob is served while alice's calls run")
			for range gateway.DefaultMaxCallsPerUser {
				select {
				case c := <-codes:
					assert.Zero(t, c, "alice's calls within her limit ran")
				case <-time.After(30 * time.Second):
					t.Fatal("alice's calls did not end")
				}
			}
		})
	}
}
