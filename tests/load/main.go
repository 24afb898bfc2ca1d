// Command load opens many concurrent sessions against an in-process
// authplug server (password logins, mysql_native_password and
// caching_sha2_password, and token logins) and runs a mix of statements
// while GRANT and REVOKE churn the same accounts' grants:
//
//	go run ./tests/load [-sessions 1000] [-duration 10s]
//
// It prints what it measured and exits non-zero on any error other than
// the expected 1142 refusals of the churned grant, or when the goroutines
// do not go back to their baseline once the clients have left.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/authplug/authplug/tests/load/loadtest"
)

func main() {
	sessions := flag.Int("sessions", 1000, "sessions open at once")
	duration := flag.Duration("duration", 10*time.Second, "how long the sessions run statements while the grants churn")
	flag.Parse()
	logrus.SetOutput(io.Discard) // the engine's own log
	res, err := loadtest.Run(context.Background(), loadtest.Config{Sessions: *sessions, Duration: *duration, Progress: os.Stderr})
	res.Print(os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}
