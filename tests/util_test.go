package tests

import (
	"os"

	"github.com/authplug/authplug/server"
)

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

func newServer(dir string) (*server.Server, error) {
	return server.New(server.Config{Addr: "127.0.0.1:0", DataDir: dir})
}
