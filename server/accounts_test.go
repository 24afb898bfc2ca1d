package server

import (
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
)

func TestRedactLooksInsideExecuteAs(t *testing.T) {
	if got := redact(`EXECUTE AS 'alice' SELECT 1`); got != `EXECUTE AS 'alice' SELECT 1` {
		t.Errorf("EXECUTE AS prefix: %q", got)
	}
	if got := redact(`EXECUTE AS 'alice' CREATE USER v IDENTIFIED BY /**/'S3cret'`); strings.Contains(got, "S3cret") || !strings.HasPrefix(got, "EXECUTE AS 'alice' ") {
		t.Errorf("redact = %q", got)
	}
}

func TestStatementKind(t *testing.T) {
	for q, want := range map[string]stmtKind{
		"SELECT 1": kindEngine, "GRANT SELECT ON *.* TO u": kindAccount, "EXECUTE AS 'a' SELECT 1": kindImpersonation,
		"/* c */ REVERT": kindImpersonation, "EXECUTE s": kindEngine, "SHOW CREATE USER u": kindAccount, "SHOW CREATE TABLE t": kindEngine,
	} {
		if got := statementKind(q); got != want {
			t.Errorf("statementKind(%q) = %d, want %d", q, got, want)
		}
	}
}

func TestNewEngineRestoresTheGlobalAuthorizationFactory(t *testing.T) {
	before := sql.GetAuthorizationHandlerFactory()
	newEngine(memory.NewDBProvider(), authzFactory{})
	if got := sql.GetAuthorizationHandlerFactory(); got != before {
		t.Fatalf("factory after newEngine = %T, want %T: engines made later would lose their authorization", got, before)
	}
}
