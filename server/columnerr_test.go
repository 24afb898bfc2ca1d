package server

import (
	"errors"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
)

// Each of the engine's column errors is recognised as the engine makes it
// and as go-mysql-server's handler passes it on (a 1105 with its text),
// names included, whatever they hold.
func TestColumnErrorsBecomeMySQLs(t *testing.T) {
	odd := `c"o'l\umn`
	cases := []struct {
		err  error
		code uint16
		msg  string
	}{
		{sql.ErrColumnNotFound.New(odd), mysqlerr.ErBadField, "Unknown column '" + odd + "' in 'field list'"},
		{sql.ErrTableColumnNotFound.New("t", "c"), mysqlerr.ErBadField, "Unknown column 't.c' in 'field list'"},
		{sql.ErrUnknownColumn.New("c", "from clause"), mysqlerr.ErBadField, "Unknown column 'c' in 'field list'"},
		{sql.ErrAmbiguousColumnName.New("id", []string{"t", "u"}), mysqlerr.ErNonUniq, "Column 'id' in field list is ambiguous"},
		{sql.ErrAmbiguousColumnOrAliasName.New("id"), mysqlerr.ErNonUniq, "Column 'id' in field list is ambiguous"},
		{sql.ErrAmbiguousColumnInOrderBy.New("id"), mysqlerr.ErNonUniq, "Column 'id' in order clause is ambiguous"},
		{sql.ErrMisusedAlias.New("x"), mysqlerr.ErBadField, "Unknown column 'x' in 'field list'"},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			for _, err := range []error{c.err, sql.CastSQLError(c.err)} {
				got, ok := columnError(err)
				require.True(t, ok, "%T %v", err, err)
				require.Equal(t, c.code, got.Code)
				require.Equal(t, c.msg, got.Message)
				require.True(t, notFound(err))
			}
		})
	}
}

func TestOtherErrorsAreNotColumnErrors(t *testing.T) {
	for _, err := range []error{
		nil,
		errors.New(`column "x" could not be found in any table in scope`), // not the engine's
		mysql.NewSQLError(int(mysqlerr.ErTableAccessDenied), "42000", `column "x" could not be found in any table in scope`),
		sql.ErrTableNotFound.New("t"),
		sql.ErrColumnExists.New("c"),
	} {
		_, ok := columnError(err)
		require.False(t, ok, "%v", err)
	}
}
