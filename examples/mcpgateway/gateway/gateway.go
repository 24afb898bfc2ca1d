// Package gateway is an MCP server whose every tool call runs on the
// database as the OAuth user who made it.
//
// Each HTTP request's bearer token is checked with the verifier the
// server's authentication_oauth plugin uses (401 without a valid one). The
// token's subject is the user name of the account the call runs as, with
// host '%': the account the plugin logs the same token in as when its
// binding keeps the default claim ("sub").
//
// Two modes:
//
//   - impersonate (the default): one pool of connections logged in as the
//     gateway account, which holds GRANT PROXY ON '<user>'@'%' for each
//     user it may act as. Each statement is sent as
//     EXECUTE AS '<user>'@'%' <statement>: the one-statement form, so no
//     identity stays on the pooled connection after it. The subject is
//     quoted as the server's grammar reads it, never spliced into SQL.
//   - passthrough: the bearer itself is the password of the user's
//     authentication_oauth account; connections are per token, and the
//     gateway holds no grant at all.
package gateway

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/mysqlerr"
)

// Verifier checks a bearer token: *oauth.Verifier, the verifier the
// server's plugin is made from, so that the gateway trusts the tokens the
// server trusts. Any error is a 401 for the client; the error itself goes
// to the gateway's log only.
type Verifier interface {
	Verify(ctx context.Context, token string) (*oauth.Claims, error)
}

// Mode says whom the database sees.
type Mode string

// The modes.
const (
	Impersonate Mode = "impersonate"
	Passthrough Mode = "passthrough"
)

// Config configures a Gateway.
type Config struct {
	Mode Mode
	// DB is the gateway account's connection (impersonate), or the
	// server's address and TLS settings, whose user and password are
	// ignored (passthrough: TLS is required, the token being a password).
	DB       *mysql.Config
	Verifier Verifier
	// Issuer is, in impersonate mode, the one issuer whose subjects are
	// account names (required): two issuers may both have an "alice", and
	// only the server's account bindings say which one an account is, which
	// the gateway does not read. Tokens of other issuers get a 401. In
	// passthrough mode the account's binding decides, at login.
	Issuer string
	// MaxRows caps the rows a query returns (default 1000).
	MaxRows int
	// MaxCallsPerUser caps the tool calls of one user (issuer and subject)
	// running at once (default DefaultMaxCallsPerUser); more are refused
	// with 1203. Each running call holds a database connection: without a
	// cap, one user's slow statements would take every connection the
	// gateway, or the server, has.
	MaxCallsPerUser int
	// MaxConns caps the gateway account's pool in impersonate mode
	// (default DefaultMaxConns); a call waits for a free connection, within
	// CallTimeout. Passthrough pools are per token, of 2 connections each.
	MaxConns int
	// CallTimeout bounds one tool call on the database (default 30s).
	CallTimeout time.Duration
	Logger      *slog.Logger
}

// The defaults of Config.MaxCallsPerUser and Config.MaxConns.
const (
	DefaultMaxCallsPerUser = 4
	DefaultMaxConns        = 32
)

// Gateway serves the MCP tools.
type Gateway struct {
	cfg    Config
	server *mcp.Server
	// running counts each user's calls in progress.
	running inFlight
	// db is the gateway account's pool (impersonate mode).
	db *sql.DB
	// users are the per-token pools (passthrough mode).
	users *userPools
}

// New checks cfg and opens the gateway's pool; no connection is made yet.
func New(cfg Config) (*Gateway, error) {
	if cfg.Verifier == nil || cfg.DB == nil {
		return nil, errors.New("gateway: a verifier and a database configuration are required")
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = 1000
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	if cfg.MaxCallsPerUser <= 0 {
		cfg.MaxCallsPerUser = DefaultMaxCallsPerUser
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	g := &Gateway{cfg: cfg, running: inFlight{n: map[string]int{}}}
	// Each statement is one COM_QUERY: with multi-statements on, the
	// server would run what follows a ';' after the EXECUTE AS statement
	// as the gateway itself.
	db := cfg.DB.Clone()
	db.MultiStatements = false
	switch cfg.Mode {
	case Impersonate, "":
		g.cfg.Mode = Impersonate
		if cfg.Issuer == "" {
			return nil, errors.New("gateway: impersonate mode needs the issuer whose subjects are account names")
		}
		ctr, err := mysql.NewConnector(db)
		if err != nil {
			return nil, fmt.Errorf("gateway: database: %w", err)
		}
		g.db = sql.OpenDB(ctr)
		g.db.SetMaxOpenConns(cfg.MaxConns)
	case Passthrough:
		u, err := newUserPools(db)
		if err != nil {
			return nil, err
		}
		g.users = u
	default:
		return nil, fmt.Errorf("gateway: mode %q: give %s or %s", cfg.Mode, Impersonate, Passthrough)
	}
	g.server = g.newServer()
	return g, nil
}

// Close closes the gateway's connections.
func (g *Gateway) Close() error {
	if g.db != nil {
		return g.db.Close()
	}
	g.users.close()
	return nil
}

// Handler serves MCP over streamable HTTP at /mcp; every request needs a
// valid bearer token.
func (g *Gateway) Handler() http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return g.server }, &mcp.StreamableHTTPOptions{
		Logger: g.cfg.Logger,
		// A client that goes away without ending its session does not
		// keep it forever.
		SessionTimeout: 30 * time.Minute,
	})
	mux := http.NewServeMux()
	mux.Handle("/mcp", auth.RequireBearerToken(g.verify, nil)(h))
	return mux
}

type tokenExtra struct{}

// verify is the SDK's token verifier: the streamable handler also binds a
// session to its UserID, so another user's token cannot take it over.
func (g *Gateway) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	c, err := g.cfg.Verifier.Verify(ctx, token)
	if err != nil {
		g.cfg.Logger.Info("gateway: bearer refused", "error", err)
		return nil, fmt.Errorf("%w: the bearer token is not valid here", auth.ErrInvalidToken)
	}
	if g.cfg.Mode == Impersonate && c.Issuer != g.cfg.Issuer {
		g.cfg.Logger.Info("gateway: bearer refused", "error", "not the impersonation issuer", "issuer", c.Issuer)
		return nil, fmt.Errorf("%w: the bearer token is not valid here", auth.ErrInvalidToken)
	}
	return &auth.TokenInfo{
		UserID:     fmt.Sprintf("%q %q", c.Issuer, c.Subject),
		Expiration: c.Expires,
		Extra:      map[string]any{"claims": c, "token": token},
	}, nil
}

// caller is the verified claims (and, for passthrough, the token) of a
// call.
func caller(req *mcp.CallToolRequest) (*oauth.Claims, string, bool) {
	if req.Extra == nil || req.Extra.TokenInfo == nil {
		return nil, "", false
	}
	c, ok := req.Extra.TokenInfo.Extra["claims"].(*oauth.Claims)
	tok, _ := req.Extra.TokenInfo.Extra["token"].(string)
	return c, tok, ok
}

// QueryArgs are the query tool's arguments.
type QueryArgs struct {
	SQL string `json:"sql" jsonschema:"exactly one SQL statement: SELECT, TABLE, VALUES, WITH, INSERT, REPLACE, UPDATE, DELETE, SHOW, DESCRIBE or EXPLAIN"`
}

// ListTablesArgs are the list_tables tool's arguments.
type ListTablesArgs struct {
	Database string `json:"database" jsonschema:"the database whose tables to list"`
}

// Result is a tool's structured result.
type Result struct {
	Columns      []string    `json:"columns,omitempty"`
	Rows         [][]*string `json:"rows,omitempty"`
	RowsAffected *int64      `json:"rows_affected,omitempty"`
	// Truncated says rows beyond MaxRows were dropped.
	Truncated bool      `json:"truncated,omitempty"`
	Error     *SQLError `json:"error,omitempty"`
}

// SQLError is a refusal or failure, with its MySQL error number: the
// server's (1142 for grants that refuse, 1227 for a missing PROXY grant)
// or the gateway's own (1064, 1235).
type SQLError struct {
	Code     uint16 `json:"code"`
	SQLState string `json:"sqlstate,omitempty"`
	Message  string `json:"message"`
}

func (g *Gateway) newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "authplug-mcpgateway", Version: "0.1.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{
		Name:        "query",
		Description: "Run exactly one SQL statement on the database as the signed-in user; the user's grants decide what it may do.",
	}, func(ctx context.Context, req *mcp.CallToolRequest, in QueryArgs) (*mcp.CallToolResult, Result, error) {
		return g.call(ctx, req, "query", in.SQL)
	})
	mcp.AddTool(s, &mcp.Tool{
		Name:        "list_tables",
		Description: "List the tables of a database that the signed-in user may see.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, func(ctx context.Context, req *mcp.CallToolRequest, in ListTablesArgs) (*mcp.CallToolResult, Result, error) {
		if in.Database == "" || strings.ContainsRune(in.Database, 0) {
			return toolError(mysqlerr.Errorf(mysqlerr.ErSyntax, "a database name is required, without NUL"))
		}
		return g.call(ctx, req, "list_tables", "SHOW TABLES FROM "+quoteIdent(in.Database))
	})
	return s
}

// call checks and runs one statement as the caller.
func (g *Gateway) call(ctx context.Context, req *mcp.CallToolRequest, tool, stmt string) (*mcp.CallToolResult, Result, error) {
	id, token, ok := caller(req)
	if !ok {
		// The middleware lets no request through without a token.
		return nil, Result{}, errors.New("gateway: no verified identity")
	}
	log := g.cfg.Logger.With("tool", tool, "issuer", id.Issuer, "subject", id.Subject, "mode", g.cfg.Mode)
	kind, err := checkStatement(stmt)
	if err != nil {
		log.Info("gateway: statement refused", "error", err)
		return toolError(err)
	}
	user := fmt.Sprintf("%q %q", id.Issuer, id.Subject)
	if !g.running.acquire(user, g.cfg.MaxCallsPerUser) {
		log.Info("gateway: call refused", "error", "too many calls running", "limit", g.cfg.MaxCallsPerUser)
		return toolError(mysqlerr.Errorf(mysqlerr.ErTooManyUserConns,
			"User %s already has %d calls running at the gateway, its limit", mysqlerr.BoundedName(id.Subject), g.cfg.MaxCallsPerUser))
	}
	defer g.running.release(user)
	ctx, cancel := context.WithTimeout(ctx, g.cfg.CallTimeout)
	defer cancel()
	var res Result
	switch g.cfg.Mode {
	case Impersonate:
		var target string
		if target, err = executeAs(id.Subject); err == nil {
			res, err = g.run(ctx, g.db, kind, target+" "+stmt)
		}
	case Passthrough:
		var db *sql.DB
		if db, err = g.users.get(id, token); err == nil {
			res, err = g.run(ctx, db, kind, stmt)
		}
	}
	if err != nil {
		log.Info("gateway: call failed", "error", err)
		return toolError(err)
	}
	log.Info("gateway: call ran", "rows", len(res.Rows))
	return nil, res, nil
}

// inFlight counts calls in progress per user.
type inFlight struct {
	mu sync.Mutex
	n  map[string]int
}

// acquire counts one more call of user, unless max are running.
func (f *inFlight) acquire(user string, max int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[user] >= max {
		return false
	}
	f.n[user]++
	return true
}

func (f *inFlight) release(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[user]--; f.n[user] <= 0 {
		delete(f.n, user)
	}
}

// executeAs is the prefix that runs a statement as the subject's account.
// The name is quoted as the server's EXECUTE AS grammar reads a quoted
// name (doubled quotes, backslash escapes), so whatever the subject holds
// stays one account name. An empty subject would name the anonymous
// account.
func executeAs(subject string) (string, error) {
	if subject == "" {
		return "", mysqlerr.Errorf(mysqlerr.ErSpecificAccess, "the token has no subject to act as")
	}
	return "EXECUTE AS " + quoteString(subject) + "@'%'", nil
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// run sends q as one text-protocol statement.
func (g *Gateway) run(ctx context.Context, db *sql.DB, kind statementKind, q string) (Result, error) {
	if kind == changesRows {
		r, err := db.ExecContext(ctx, q)
		if err != nil {
			return Result{}, err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return Result{}, err
		}
		return Result{RowsAffected: &n}, nil
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return Result{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return Result{}, err
	}
	res := Result{Columns: cols, Rows: [][]*string{}}
	for rows.Next() {
		if len(res.Rows) == g.cfg.MaxRows {
			res.Truncated = true
			break
		}
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return Result{}, err
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = &v.String
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// toolError is a failed call: the error number in the structured result
// and in the text, as a MySQL client prints it. Errors that are not
// MySQL's (a connection that failed) are not passed on: they may name the
// gateway's database address.
func toolError(err error) (*mcp.CallToolResult, Result, error) {
	e := &SQLError{Message: "the gateway could not run the statement"}
	var me *mysql.MySQLError
	var ae *mysqlerr.Error
	switch {
	case errors.As(err, &me):
		e.Code, e.SQLState, e.Message = me.Number, string(me.SQLState[:]), me.Message
	case errors.As(err, &ae):
		e.Code, e.SQLState, e.Message = ae.Code, ae.SQLState, ae.Message
	case errors.Is(err, context.DeadlineExceeded):
		e.Message = "the statement ran out of time"
	}
	text := e.Message
	if e.Code != 0 {
		text = fmt.Sprintf("ERROR %d (%s): %s", e.Code, e.SQLState, e.Message)
	}
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: text}}}, Result{Error: e}, nil
}
