package tests

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's "Writing a plugin" and "Serving your own plugin" show a
// plugin module and a server module built outside this repository, each
// file a block marked `<!-- file: PATH -->`. TestThirdPartyPluginFromREADME
// lays them out as the README does, beside "authplug", a symbolic link to
// this checkout (so the README's `replace ... => ../authplug` is used as
// written), builds the server with the go command and the module cache
// only, serves it, and runs the README's blocks marked
// `<!-- run on: myserver -->` on it.

// thirdPartyServer is the README's server module, the one built.
const thirdPartyServer = "myserver"

// readmeFiles returns the README's blocks marked `<!-- file: PATH -->`,
// by path.
func readmeFiles(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	blocks, err := fencedBlocks(string(doc))
	require.NoError(t, err)
	files, err := fileBlocks(blocks)
	require.NoError(t, err)
	return files
}

// fileBlocks returns the blocks marked `<!-- file: PATH -->`, by path. A
// path must stay inside the layout and out of "authplug", the link to this
// checkout, so that nothing the README says is written over the checkout.
func fileBlocks(blocks []fencedBlock) (map[string]string, error) {
	files := map[string]string{}
	for _, b := range blocks {
		path, ok := strings.CutPrefix(b.marker, "file:")
		if !ok {
			continue
		}
		path = strings.TrimSpace(path)
		switch {
		case !filepath.IsLocal(path):
			return nil, fmt.Errorf("README line %d: %q is not a relative path inside the layout", b.line-1, path)
		case strings.Split(filepath.ToSlash(filepath.Clean(path)), "/")[0] == "authplug":
			return nil, fmt.Errorf("README line %d: %q would be written into this checkout", b.line-1, path)
		}
		if _, dup := files[path]; dup {
			return nil, fmt.Errorf("README line %d: a second block for %s", b.line-1, path)
		}
		files[path] = b.text + "\n"
	}
	return files, nil
}

func TestREADMEFileBlocksStayInTheirLayout(t *testing.T) {
	block := func(path string) fencedBlock { return fencedBlock{line: 2, marker: "file: " + path, text: "x"} }
	files, err := fileBlocks([]fencedBlock{block("p/go.mod"), {line: 5, marker: "snippet: a.go", text: "y"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"p/go.mod": "x\n"}, files)

	for path, want := range map[string]string{
		"../x.go":            "not a relative path",
		"/etc/x":             "not a relative path",
		"p/../../x":          "not a relative path",
		"":                   "not a relative path",
		"authplug/go.mod":    "into this checkout",
		"./authplug/main.go": "into this checkout",
		"p/../authplug/x.go": "into this checkout",
	} {
		_, err := fileBlocks([]fencedBlock{block(path)})
		assert.ErrorContains(t, err, want, "%q", path)
	}
	_, err = fileBlocks([]fencedBlock{block("p/go.mod"), block("p/go.mod")})
	assert.ErrorContains(t, err, "a second block for p/go.mod")
}

// goTool runs the go command in dir with the module cache only: no proxy,
// no checksum database, no workspace, no toolchain download. GOCACHE and
// GOMODCACHE are the test's own, inherited.
func goTool(t *testing.T, dir string, timeout time.Duration, args ...string) time.Duration {
	t.Helper()
	goCmd, err := osexec.LookPath("go")
	require.NoError(t, err, "the go command builds the README's server")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := osexec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local")
	began := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(began)
	require.NoError(t, err, "go %s in %s (%s):\n%s", strings.Join(args, " "), dir, took, out)
	return took
}

// loginAs logs in to addr as user with password, over TLS unless plain, with
// the cleartext client plugin allowed, and returns the error.
func loginAs(t *testing.T, addr, user, password string, plain bool) error {
	t.Helper()
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.Timeout = user, password, "tcp", addr, 5*time.Second
	c.AllowCleartextPasswords = true
	if !plain {
		c.TLSConfig = "skip-verify"
	}
	conn, err := mysql.NewConnector(c)
	require.NoError(t, err)
	db := sql.OpenDB(conn)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	return s.Close()
}

func TestThirdPartyPluginFromREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a server binary with the go command")
	}
	files := readmeFiles(t)
	for _, f := range []string{"go.mod", "main.go"} {
		require.Contains(t, files, thirdPartyServer+"/"+f, "README.md has no block marked <!-- file: %s/%s -->", thirdPartyServer, f)
	}

	repo, err := filepath.Abs("..")
	require.NoError(t, err)
	work := t.TempDir()
	require.NoError(t, os.Symlink(repo, filepath.Join(work, "authplug")))
	for path, text := range files {
		full := filepath.Join(work, filepath.FromSlash(path))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o700))
		require.NoError(t, writeFile(full, text))
	}

	// Every module the README shows is tidied as a builder would, the
	// plugin's on its own too; the server is built, the others vetted.
	var modules []string
	for path := range files {
		if dir, ok := strings.CutSuffix(path, "/go.mod"); ok {
			modules = append(modules, dir)
		}
	}
	slices.Sort(modules)
	var took []string
	for _, dir := range modules {
		d := filepath.Join(work, filepath.FromSlash(dir))
		tidy := goTool(t, d, 2*time.Minute, "mod", "tidy")
		took = append(took, fmt.Sprintf("%s: go mod tidy %s", dir, tidy.Round(time.Millisecond)))
		if dir != thirdPartyServer {
			vet := goTool(t, d, 5*time.Minute, "vet", "./...")
			took = append(took, fmt.Sprintf("%s: go vet %s", dir, vet.Round(time.Millisecond)))
		}
	}
	bin := filepath.Join(t.TempDir(), thirdPartyServer)
	build := goTool(t, filepath.Join(work, thirdPartyServer), 5*time.Minute, "build", "-o", bin, ".")
	t.Logf("%s; %s: go build %s", strings.Join(took, "; "), thirdPartyServer, build.Round(time.Millisecond))

	dataDir := t.TempDir()
	srv := startChild(t, bin, nil, "--data-dir", dataDir)

	blocks := readmeSQL(t, thirdPartyServer)
	require.NotEmpty(t, blocks, "README.md has no ```sql block marked <!-- run on: %s -->", thirdPartyServer)
	rs := &readmeServer{addr: srv.addr, dataDir: dataDir, passwords: map[string]string{"root": generatedRootPassword(t, srv.out.String())}}
	for _, b := range blocks {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := rs.run(ctx, b)
		cancel()
		require.NoError(t, err, "the README's SQL block at line %d, on %s:\n%s", b.line, thirdPartyServer, srv.out.String())
	}

	// The README's last block logs in through the plugin: its user and key.
	user := blocks[len(blocks)-1].user
	key := rs.passwords[user]
	require.NotEqual(t, "root", user, "the README's last block on %s logs in through the plugin", thirdPartyServer)
	_, secret, ok := strings.Cut(key, ":")
	require.True(t, ok, "the README's key %q reads db:secret", key)

	require.NoError(t, loginAs(t, srv.addr, user, key, false), "the README's key over TLS")
	for name, tc := range map[string]struct {
		key    string
		plain  bool
		reason string // in the server's log
	}{
		"wrong secret":          {key: key + "0", plain: false, reason: "wrong key"},
		"another database":      {key: "mysql:" + secret, plain: false},
		"no secret":             {key: "", plain: false},
		"the right key, no TLS": {key: key, plain: true},
	} {
		t.Run(name, func(t *testing.T) {
			err := loginAs(t, srv.addr, user, tc.key, tc.plain)
			assert.Equal(t, uint16(1045), code(err), "%v", err)
			if tc.reason != "" {
				// The server's log reaches us through a pipe, maybe after
				// the client has its answer.
				waitFor(t, 10*time.Second, "the reason in the server's log", func() bool {
					return strings.Contains(srv.out.String(), tc.reason)
				})
			}
		})
	}
	assert.NotContains(t, srv.out.String(), key, "the key is never logged")
}
