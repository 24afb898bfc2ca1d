package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
)

// evalSQL runs a query of one value through an engine with the host's
// functions, recovering a panic as a test failure rather than a crash.
func evalSQL(t *testing.T, q string) (v any, warnings []*sql.Warning, err error) {
	t.Helper()
	e, ctx := bigEngine(t)
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s panicked: %v", q, p)
		}
	}()
	ctx.ClearWarnings()
	_, iter, _, err := e.Query(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		return nil, nil, err
	}
	require.Len(t, rows, 1, q)
	require.Len(t, rows[0], 1, q)
	return rows[0][0], ctx.Warnings(), nil
}

// textOf is a result as the client reads it, "NULL" for NULL.
func textOf(t *testing.T, v any) string {
	t.Helper()
	if v == nil {
		return "NULL"
	}
	_, ctx := bigEngine(t)
	return asText(t, ctx, v)
}

// Each input made the engine's function panic (go-mysql-server v0.20.0);
// each now answers MySQL 8's result.
func TestBuiltinsAnswerWhereTheEnginePanicked(t *testing.T) {
	onesAndZeros := "1" + strings.Repeat(",000", 100) + "." + strings.Repeat("0", 30)
	for _, c := range []struct{ q, want string }{
		// FORMAT: math/big rather than an int64 and a decimal from a float.
		{"SELECT FORMAT(1e300, 30)", onesAndZeros},
		{"SELECT FORMAT(1e20, 2)", "100,000,000,000,000,000,000.00"},
		{"SELECT FORMAT(18446744073709551615, 0)", "18,446,744,073,709,551,615"},
		{"SELECT FORMAT(-9223372036854775808, 3)", "-9,223,372,036,854,775,808.000"},
		{"SELECT FORMAT(123456789012345678901234567890.123, 5)", "123,456,789,012,345,678,901,234,567,890.12300"},
		{"SELECT FORMAT(1.5, 100)", "1." + "5" + strings.Repeat("0", 29)},
		{"SELECT FORMAT(2.5e0, 0)", "2"},      // a double rounds half to even
		{"SELECT FORMAT(2.5, 0)", "3"},        // a DECIMAL half away from zero
		{"SELECT FORMAT(1.005e0, 2)", "1.00"}, // 1.005 is 1.00499... as a double
		{"SELECT FORMAT(0.1e0, 20)", "0.10000000000000000000"},
		{"SELECT FORMAT(-5.932887e-08, 2)", "-0.00"},
		{"SELECT FORMAT(-0.00000005932887, 2)", "0.00"},
		{"SELECT FORMAT(12345.678, 2.5)", "12,345.678"},
		{"SELECT FORMAT(123.456, -2)", "123"},
		{"SELECT FORMAT(1, 'NaN')", "1"},
		{"SELECT FORMAT(12332.2, 2, 'de_DE')", "12.332,20"},
		{"SELECT FORMAT(1, 2, 3)", "1.00"}, // a locale that is no name
		{"SELECT FORMAT(1, 'a', X'FF')", "1"},
		{"SELECT FORMAT(1, 2, NULL)", "1.00"},
		{"SELECT FORMAT('12a', 1)", "12.0"},
		{"SELECT FORMAT('inf', 2)", "0.00"},
		{"SELECT FORMAT(NULL, 2)", "NULL"},
		// ROUND: a double is rounded as one.
		{"SELECT ROUND('inf')", "0"},
		{"SELECT ROUND(2.5e0)", "2"},
		{"SELECT ROUND(1234.5678e0, -2)", "1200"},
		{"SELECT ROUND(CAST('null' AS JSON))", "0"},
		{"SELECT ROUND(7, NULL)", "NULL"},
		// MOD: a string is read as MySQL reads a number.
		{"SELECT MOD(5, 'inf')", "NULL"},
		// INET6_ATON: what is no address is NULL.
		{"SELECT INET6_ATON(0)", "NULL"},
		{"SELECT INET6_ATON(X'FF')", "NULL"},
		{"SELECT INET6_ATON(1.5)", "NULL"},
		{"SELECT HEX(INET6_ATON('::1'))", "00000000000000000000000000000001"},
		// JSON_EXTRACT with several paths: those that match nothing are
		// left out, and none matching is NULL.
		{`SELECT JSON_EXTRACT('{"a":1}', '$.b', '$.c')`, "NULL"},
		{`SELECT JSON_EXTRACT('{"a":1}', '$.b', '$.a')`, "[1]"},
		{`SELECT JSON_EXTRACT('{"a":1}', NULL, '$.a')`, "NULL"},
		// JSON_VALUE: a path of another type is read as text.
		{`SELECT JSON_VALUE('{"a":1}', X'242E61')`, "1"},
		{`SELECT JSON_VALUE('{"a":1}', NULL)`, "NULL"},
		// LAST_INSERT_ID(NULL) is NULL.
		{"SELECT LAST_INSERT_ID(NULL)", "NULL"},
		// LOCATE: a position before the first character is 0.
		{"SELECT LOCATE('a', 'abca', -1)", "0"},
		{"SELECT LOCATE('a', 'abca', 'NaN')", "0"},
		{"SELECT LOCATE('a', 'abca', 18446744073709551615)", "0"},
		{"SELECT LOCATE('a', 'abca', 2)", "4"},
		{"SELECT LOCATE('a', 'abca', NULL)", "NULL"},
		// RAND(NULL) is RAND(0).
		{"SELECT RAND(NULL) = RAND(0)", "1"},
		{"SELECT RAND(LOG(0)) = RAND(0)", "1"},
		// UNIX_TIMESTAMP of a binary string reads it as text.
		{"SELECT UNIX_TIMESTAMP(X'FF')", "0"},
		{"SELECT UNIX_TIMESTAMP(UNHEX('323032302D30312D3031'))", "1577836800"},
		{"SELECT UNIX_TIMESTAMP(CONCAT('2020-01-01', ''))", "1577836800"},
		{"SELECT UNIX_TIMESTAMP(REPEAT('2020-01-01', 1))", "1577836800"},
	} {
		t.Run(c.q, func(t *testing.T) {
			v, _, err := evalSQL(t, c.q)
			require.NoError(t, err)
			assert.Equal(t, c.want, textOf(t, v))
		})
	}
}

// The host's errors where MySQL has one.
func TestBuiltinsRefuseWithMySQLErrors(t *testing.T) {
	for _, c := range []struct {
		q    string
		want uint16
	}{
		{"SELECT FORMAT(1e308 * 10, 2)", mysqlerr.ErDataOutOfRange}, // +Inf, MySQL's 1690 for the product
		{"SELECT ROUND(-1e308 * 10)", mysqlerr.ErDataOutOfRange},
		{"SELECT MOD(1, 1e308 * 10)", mysqlerr.ErDataOutOfRange},
		{"SELECT JSON_OBJECT(NULL, 1)", mysqlerr.ErJSONDocumentNullKey},
		{"SELECT JSON_OBJECT('a', 1, NULL, 2)", mysqlerr.ErJSONDocumentNullKey},
		{"SELECT CURTIME(i) FROM (SELECT 1 AS i) AS t", mysqlerr.ErSyntax},
		{"SELECT CURTIME(1, 2)", mysqlerr.ErSyntax},
		{"SELECT ABS()", mysqlerr.ErWrongParamcountToNativeFct},
		{"SELECT ABS(1, 2)", mysqlerr.ErWrongParamcountToNativeFct},
		{"SELECT JSON_OBJECT(1)", mysqlerr.ErWrongParamcountToNativeFct},
		{"SELECT JSON_SET('{}', '$.a')", mysqlerr.ErWrongParamcountToNativeFct},
		{"SELECT SUBSTRING_INDEX('a')", mysqlerr.ErWrongParamcountToNativeFct},
		{"SELECT REPEAT('a')", mysqlerr.ErWrongParamcountToNativeFct}, // a host-checked function too
	} {
		t.Run(c.q, func(t *testing.T) {
			_, _, err := evalSQL(t, c.q)
			assert.Equal(t, c.want, errNum(err), "%v", err)
		})
	}
}

// NTILE's bucket count is a positive integer, else 1210; the engine
// asserted a signed integer where a failed conversion left an unsigned 0.
func TestNtileBuckets(t *testing.T) {
	e, ctx := bigEngine(t)
	for _, q := range []string{
		"SELECT NTILE('a') OVER () FROM (SELECT 1) AS t",
		"SELECT NTILE(0) OVER () FROM (SELECT 1) AS t",
		"SELECT NTILE(-1) OVER () FROM (SELECT 1) AS t",
		"SELECT NTILE(NULL) OVER () FROM (SELECT 1) AS t",
		"SELECT NTILE(1.5) OVER () FROM (SELECT 1) AS t",
	} {
		_, iter, _, err := e.Query(ctx, q)
		if err == nil {
			_, err = sql.RowIterToRows(ctx, iter)
		}
		assert.Equal(t, uint16(mysqlerr.ErWrongArguments), errNum(err), "%s: %v", q, err)
	}
	rows := rowsOfQuery(t, e, ctx, "SELECT NTILE(18446744073709551615) OVER (ORDER BY x) FROM (SELECT 1 AS x UNION ALL SELECT 2) AS t")
	assert.Equal(t, []sql.Row{{uint64(1)}, {uint64(2)}}, rows, "more buckets than rows: a row a bucket")
}

// Warnings as MySQL gives them when a string is read as a number.
func TestFormatWarnsOfWhatItCouldNotRead(t *testing.T) {
	_, warnings, err := evalSQL(t, "SELECT FORMAT('12a', 1)")
	require.NoError(t, err)
	require.Len(t, warnings, 1)
	assert.Equal(t, mysqlerr.ErTruncatedWrongValue, int(warnings[0].Code))
	assert.Equal(t, "Truncated incorrect DOUBLE value: '12a'", warnings[0].Message)
}

// LAST_INSERT_ID(NULL) makes the session's last insert id 0.
func TestLastInsertIDOfNull(t *testing.T) {
	e, ctx := bigEngine(t)
	one(t, e, ctx, "SELECT LAST_INSERT_ID(5)")
	v, _ := one(t, e, ctx, "SELECT LAST_INSERT_ID(NULL)")
	assert.Nil(t, v)
	v, _ = one(t, e, ctx, "SELECT LAST_INSERT_ID()")
	assert.EqualValues(t, 0, v)
}

// Every fix is for one of the engine's built-ins, and keeps the name the
// authorizer classifies it by.
func TestFixedFunctionsKeepTheirNames(t *testing.T) {
	for name := range fixes {
		f, ok := builtin(name)
		require.True(t, ok, "%s: not an engine built-in", name)
		e := instance(f)
		require.NotNil(t, e, "%s: cannot be built", name)
		fe, ok := e.(sql.FunctionExpression)
		if !ok || !pureFunctions[strings.ToLower(fe.FunctionName())] {
			t.Errorf("%s: answers to %T, not a classified function name", name, e)
		}
	}
}

// disposable counts the times it is given back.
type disposable struct {
	*expression.Literal
	disposed *int
}

func (d disposable) Dispose() { *d.disposed++ }

func (d disposable) WithChildren(...sql.Expression) (sql.Expression, error) { return d, nil }

// The copy of the engine's expression that evalOn evaluates is given back
// at once: a REGEXP function's copy holds a WebAssembly memory of 64 MiB,
// which the host's REGEXP_REPLACE made once per row and left to the
// collector.
func TestEvalOnDisposesItsCopy(t *testing.T) {
	n := 0
	_, ctx := bigEngine(t)
	v, err := evalOn(ctx, disposable{Literal: expression.NewLiteral(int64(7), types.Int64), disposed: &n}, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 7, v)
	assert.Equal(t, 1, n)
}

// A panic in the engine's work for a command is that command's 1105, and
// the panic with its stack goes to the log.
func TestGuardedTurnsAPanicIntoTheStatementsError(t *testing.T) {
	var log bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&log, nil))}
	err := s.guarded(42, func() error { panic("deliberate") })
	require.Error(t, err)
	assert.Equal(t, uint16(mysqlerr.ErUnknownError), mysqlerr.Code(err))
	assert.Equal(t, "internal error: deliberate", err.(*mysqlerr.Error).Message)
	assert.Contains(t, log.String(), "connection=42")
	assert.Contains(t, log.String(), "TestGuardedTurnsAPanicIntoTheStatementsError", "the stack is logged")
	assert.NoError(t, s.guarded(42, func() error { return nil }))
}
