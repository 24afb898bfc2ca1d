package server

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
)

// rsaPublicKeyStatus is MySQL's status variable holding the PEM of the key
// caching_sha2_password clients encrypt with. It is public: clients are
// sent the same key on request.
const rsaPublicKeyStatus = "Caching_sha2_password_rsa_public_key"

// execBuilder is the engine's builder with authplug's overrides: the
// metadata filters, and status variables only the server knows. The engine
// keeps status variables in one process-wide registry where a string cannot
// be set, and each server has its own key, so the value is put into the
// rows of SHOW [GLOBAL] STATUS as they are built.
func (s *Server) execBuilder() sql.NodeExecBuilder {
	return rowexec.NewOverrideBuilder(statusVars{s: s, next: metadata{s}})
}

type statusVars struct {
	s    *Server
	next sql.NodeExecBuilder
}

func (v statusVars) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	var values map[string]string
	switch n.(type) {
	case *plan.ShowStatus:
		values = v.s.limitStatus() // limits.go
		values[strings.ToLower(rsaPublicKeyStatus)] = v.s.rsaPublicKey
	case *plan.ShowVariables:
		values = v.s.limitVariables()
	default:
		return v.next.Build(ctx, n, row)
	}
	iter, err := rowexec.DefaultBuilder.Build(ctx, n, row)
	if err != nil {
		return nil, err
	}
	return &statusIter{RowIter: iter, values: values}, nil
}

// statusIter replaces the values of the variables it knows, by name
// (column 0; column 1 is the value).
type statusIter struct {
	sql.RowIter
	values map[string]string
}

func (it *statusIter) Next(ctx *sql.Context) (sql.Row, error) {
	r, err := it.RowIter.Next(ctx)
	if err != nil || len(r) < 2 {
		return r, err
	}
	if name, ok := r[0].(string); ok {
		if val, ok := it.values[strings.ToLower(name)]; ok {
			r = append(sql.Row{r[0], val}, r[2:]...)
		}
	}
	return r, nil
}
