package tests

import (
	"os"

	"github.com/authplug/authplug/server"
)

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

func newServer(dir string) (*server.Server, error) {
	return server.New(server.Config{Addr: "127.0.0.1:0", DataDir: dir})
}

// clientsRequired reports whether a missing client or server (mariadb,
// mariadbd, node with mysql2) fails its test instead of skipping it: in
// CI, which installs them all (.ci/run sets AUTHPLUG_REQUIRE_CLIENTS).
func clientsRequired() bool {
	return os.Getenv("CI") != "" || os.Getenv("AUTHPLUG_REQUIRE_CLIENTS") != ""
}
