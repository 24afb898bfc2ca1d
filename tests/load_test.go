package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authplug/authplug/tests/load/loadtest"
)

// TestLoad is `go run ./tests/load` made small enough for CI: concurrent
// sessions of every login kind and a statement mix while GRANT and REVOKE
// churn their accounts' grants; no error but the churned grant's 1142, and
// the goroutines back to their baseline once the clients have gone.
func TestLoad(t *testing.T) {
	var out strings.Builder
	res, err := loadtest.Run(context.Background(), loadtest.Config{Sessions: 100, Duration: 2 * time.Second})
	res.Print(&out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Statements == 0 {
		t.Fatal("no statement ran")
	}
}
