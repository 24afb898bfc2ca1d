package server

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/authplug/authplug/mysqlerr"
)

// bigLimit is the max_allowed_packet of these tests: small, so that a
// result over it costs nothing to try and one under it little to build.
const bigLimit = 4096

// bigEngine is an engine with the host's functions and analyzer rule, and
// no authorizer, and a session whose max_allowed_packet is bigLimit.
func bigEngine(t *testing.T) (*sqle.Engine, *sql.Context) {
	t.Helper()
	pro := memory.NewDBProvider(memory.NewDatabase("db"))
	e := newEngine(provider{DbProvider: pro}, sql.GetAuthorizationHandlerFactory())
	if err := capResults(e.Analyzer); err != nil {
		t.Fatal(err)
	}
	ctx := sql.NewContext(t.Context(), sql.WithSession(memory.NewSession(sql.NewBaseSession(), pro)))
	ctx.SetCurrentDatabase("db")
	if err := ctx.SetSessionVariable(ctx, "max_allowed_packet", int64(bigLimit)); err != nil {
		t.Fatal(err)
	}
	return e, ctx
}

// one runs a query of one value and returns it with the warnings.
func one(t *testing.T, e *sqle.Engine, ctx *sql.Context, q string) (any, []*sql.Warning) {
	t.Helper()
	ctx.ClearWarnings()
	_, iter, _, err := e.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: rows %v", q, rows)
	}
	return rows[0][0], ctx.Warnings()
}

// runSQL runs a statement and returns its warnings.
func runSQL(t *testing.T, e *sqle.Engine, ctx *sql.Context, q string) []*sql.Warning {
	t.Helper()
	ctx.ClearWarnings()
	_, iter, _, err := e.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if _, err := sql.RowIterToRows(ctx, iter); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return ctx.Warnings()
}

func allocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

func TestResultsOverMaxAllowedPacketAreNull(t *testing.T) {
	e, ctx := bigEngine(t)
	// The regular expression engine's first use sets up its runtime.
	one(t, e, ctx, "SELECT REGEXP_LIKE('a', 'a')")
	for _, q := range []string{
		"SELECT REPEAT('x', 2000000000)",
		"SELECT REPEAT('x', 4097)",
		"SELECT REPEAT(REPEAT('x', 4096), 4096)",
		"SELECT REPEAT(REPEAT(REPEAT('x', 2000000000), 2000000000), 2000000000)",
		"SELECT REPEAT('x', 9223372036854775807)",
		"SELECT SPACE(2000000000)",
		"SELECT SPACE(4097)",
		"SELECT LPAD('a', 2000000000, 'b')",
		"SELECT RPAD('a', 4097, 'b')",
		"SELECT REPLACE(REPEAT('a', 4000), 'a', REPEAT('b', 1000))",
		"SELECT REPLACE(REPEAT('a', 2049), 'a', 'bb')",
		"SELECT REGEXP_REPLACE(REPEAT('a', 3000), 'a', 'bb')",
		"SELECT REGEXP_REPLACE(REPEAT('a', 1000), 'x*', 'bbbbb')",
		"SELECT REGEXP_REPLACE(REPEAT('ab', 1000), '(a)', '$1$1$1')",
		"SELECT CONCAT(REPEAT('x', 3000), REPEAT('x', 3000))",
		"SELECT CONCAT_WS(REPEAT(',', 4095), 'a', 'b')",
		"SELECT HEX(REPEAT('x', 2049))",
		"SELECT HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX('x')))))))))))))",
		"SELECT TO_BASE64(REPEAT('x', 3100))",
		"SELECT QUOTE(REPEAT('\\\\', 2048))",
		"SELECT JSON_QUOTE(REPEAT('\"', 2048))",
		"SELECT JSON_PRETTY(CONCAT(REPEAT('[', 100), REPEAT(']', 100)))",
		"SELECT JSON_ARRAY(REPEAT('x', 3000), REPEAT('x', 3000))",
		"SELECT JSON_SEARCH(CONCAT(REPEAT('[', 100), '\"a\"', REPEAT(']', 100)), 'all', 'a')",
		"SELECT CAST('a' AS BINARY(2000000000))",
		"SELECT CONVERT('a', BINARY(4097))",
		"SELECT LENGTH(CAST('a' AS BINARY(9000000000000000000)))",
	} {
		t.Run(q, func(t *testing.T) {
			before := allocated()
			v, warns := one(t, e, ctx, q)
			if grew := allocated() - before; grew > 16<<20 {
				t.Errorf("allocated %d MiB", grew>>20)
			}
			if v != nil && !strings.HasPrefix(q, "SELECT LENGTH") {
				t.Errorf("= %.40v..., want NULL", v)
			}
			if len(warns) != 1 || warns[0].Code != mysqlerr.ErWarnAllowMaxPacketResult || !strings.Contains(warns[0].Message, "max_allowed_packet (4096)") {
				t.Errorf("warnings %+v, want one 1301 naming the limit", warns)
			}
		})
	}
}

func TestResultsUpToMaxAllowedPacketAreBuilt(t *testing.T) {
	e, ctx := bigEngine(t)
	for q, want := range map[string]string{
		"SELECT LENGTH(REPEAT('ab', 2048))":                                        "4096",
		"SELECT REPEAT('ab', 3)":                                                   "ababab",
		"SELECT LENGTH(SPACE(4096))":                                               "4096",
		"SELECT CONCAT('[', SPACE(3), ']')":                                        "[   ]",
		"SELECT LPAD('a', 4, 'bc')":                                                "bcba",
		"SELECT LENGTH(RPAD('a', 4096, 'b'))":                                      "4096",
		"SELECT REPLACE('banana', 'a', 'oo')":                                      "boonoonoo",
		"SELECT LENGTH(REPLACE(REPEAT('a', 2048), 'a', 'bb'))":                     "4096",
		"SELECT REGEXP_REPLACE('banana', 'a', 'oo')":                               "boonoonoo",
		"SELECT REGEXP_REPLACE('banana', 'an', 'AN', 1, 2)":                        "banANa",
		"SELECT LENGTH(REGEXP_REPLACE(CONCAT(REPEAT('b', 3000), 'a'), 'a', 'cc'))": "3002",
		"SELECT REGEXP_REPLACE('abc', '(b)', '[$1]')":                              "a[b]c",
		"SELECT CONCAT_WS(',', 'a', NULL, 'b')":                                    "a,b",
		"SELECT HEX('abc')":                                                        "616263",
		"SELECT HEX(255)":                                                          "FF",
		"SELECT LENGTH(HEX(REPEAT('x', 2048)))":                                    "4096",
		"SELECT TO_BASE64('abc')":                                                  "YWJj",
		"SELECT QUOTE('it''s')":                                                    `'it\'s'`,
		"SELECT JSON_QUOTE('a\"b')":                                                `"a\"b"`,
		"SELECT UNCOMPRESS(COMPRESS('hello'))":                                     "hello",
		"SELECT JSON_ARRAY(1, 'a', JSON_OBJECT('k', 2))":                           `[1, "a", {"k": 2}]`,
		"SELECT JSON_SET('{\"a\": 1}', '$.b', 2)":                                  `{"a": 1, "b": 2}`,
		"SELECT JSON_PRETTY('[1, {\"a\": \"<x>\"}]')":                              "[\n  1,\n  {\n    \"a\": \"\\u003cx\\u003e\"\n  }\n]",
		"SELECT JSON_SEARCH('{\"a\": [\"x\", \"y\"]}', 'one', 'y')":                `"$.a[1]"`,
		"SELECT HEX(CAST('a' AS BINARY(3)))":                                       "610000",
		"SELECT LENGTH(CAST('a' AS BINARY(4096)))":                                 "4096",
		"SELECT CAST('abc' AS CHAR(2000000000))":                                   "abc",
	} {
		t.Run(q, func(t *testing.T) {
			v, warns := one(t, e, ctx, q)
			if got := asText(t, ctx, v); got != want {
				t.Errorf("= %q, want %q", got, want)
			}
			if len(warns) != 0 {
				t.Errorf("warnings %+v", warns)
			}
		})
	}
}

// asText is v as a client reads it.
func asText(t *testing.T, ctx *sql.Context, v any) string {
	t.Helper()
	s, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	str, _, err := sql.Unwrap[string](ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return str
}

// A JSON document shares its parts: doubling it at every statement costs
// nothing until it is written out. The host stops it at the limit.
func TestJSONDoublingStopsAtMaxAllowedPacket(t *testing.T) {
	e, ctx := bigEngine(t)
	runSQL(t, e, ctx, "SET @j = JSON_ARRAY(REPEAT('x', 100))")
	before := allocated()
	var warned bool
	for range 40 {
		warns := runSQL(t, e, ctx, "SET @j = JSON_ARRAY(@j, @j)")
		warned = warned || len(warns) == 1 && warns[0].Code == mysqlerr.ErWarnAllowMaxPacketResult
	}
	if !warned {
		t.Error("40 doublings and no 1301")
	}
	// Refused, @j was NULL, and JSON_ARRAY(NULL, NULL) began again.
	v, _ := one(t, e, ctx, "SELECT LENGTH(@j)")
	if n, _, err := types.Int64.Convert(ctx, v); err != nil || n == nil || n.(int64) > bigLimit {
		t.Errorf("after 40 doublings LENGTH(@j) = %v, want at most %d", v, bigLimit)
	}
	if grew := allocated() - before; grew > 16<<20 {
		t.Errorf("allocated %d MiB", grew>>20)
	}
}

// A document built by an aggregate (not checked) over the limit is not
// copied, nor written out, by the functions that are.
func TestJSONOverTheLimitIsNotCopied(t *testing.T) {
	e, ctx := bigEngine(t)
	agg := "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 50) SELECT JSON_ARRAYAGG(REPEAT('x', 1000)) FROM s)"
	for _, q := range []string{
		"SELECT JSON_SET(" + agg + ", '$[0]', 1)",
		"SELECT JSON_ARRAY(" + agg + ")",
		"SELECT CONCAT(" + agg + ")",
		"SELECT JSON_PRETTY(" + agg + ")",
	} {
		v, warns := one(t, e, ctx, q)
		if v != nil || len(warns) != 1 || warns[0].Code != mysqlerr.ErWarnAllowMaxPacketResult {
			t.Errorf("%s = %.40v, warnings %+v; want NULL and 1301", q, v, warns)
		}
	}
}

// The analyzer evaluates constant conditions before the plan runs: a cast
// there is checked too.
func TestBinaryCastInAConstantCondition(t *testing.T) {
	e, ctx := bigEngine(t)
	before := allocated()
	_, iter, _, err := e.Query(ctx, "SELECT 1 FROM dual WHERE LENGTH(CAST('a' AS BINARY(2000000000))) > 0")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil || len(rows) != 0 {
		t.Fatalf("rows %v, err %v; want none", rows, err)
	}
	if grew := allocated() - before; grew > 16<<20 {
		t.Errorf("allocated %d MiB", grew>>20)
	}
}

func TestBinaryLengthReadsTheEnginesConvert(t *testing.T) {
	if n := binaryLength(expression.NewConvertWithLengthAndScale(expression.NewLiteral("a", types.LongText), expression.ConvertToBinary, 12, 0)); n != 12 {
		t.Errorf("BINARY(12): %d", n)
	}
	if n := binaryLength(expression.NewConvertWithLengthAndScale(expression.NewLiteral("a", types.LongText), expression.ConvertToChar, 12, 0)); n != 0 {
		t.Errorf("CHAR(12): %d", n)
	}
}

// Every function the host checks is one of the engine's, and keeps the
// name the authorizer classifies it by.
func TestCappedFunctionsKeepTheirNames(t *testing.T) {
	for name := range bigResults {
		f, ok := builtin(name)
		if !ok {
			t.Errorf("%s: not an engine built-in", name)
			continue
		}
		e := instance(f)
		if e == nil {
			t.Errorf("%s: cannot be built", name)
			continue
		}
		fe, ok := e.(sql.FunctionExpression)
		if !ok || !pureFunctions[strings.ToLower(fe.FunctionName())] {
			t.Errorf("%s: answers to %T, not a classified function name", name, e)
		}
	}
}

// The authorizer's backstop, for a cast the analyzer rule did not reach.
func TestCheckBinaryCast(t *testing.T) {
	_, ctx := bigEngine(t)
	cast := func(n int) *expression.Convert {
		return expression.NewConvertWithLengthAndScale(expression.NewLiteral("a", types.LongText), expression.ConvertToBinary, n, 0)
	}
	if err := checkBinaryCast(ctx, cast(bigLimit)); err != nil {
		t.Errorf("BINARY(%d): %v", bigLimit, err)
	}
	if err := checkBinaryCast(ctx, cast(bigLimit+1)); mysqlerr.Code(err) != mysqlerr.ErWarnAllowMaxPacketResult {
		t.Errorf("BINARY(%d): %v, want 1301", bigLimit+1, err)
	}
}

// The meter counts what the engine writes: exactly, for MySQL's form; at
// least as much, for JSON_PRETTY's.
func TestJSONMeterCountsWhatIsWritten(t *testing.T) {
	_, ctx := bigEngine(t)
	for _, doc := range []string{
		`[]`, `{}`, `[1, 2.5, -3, true, false, null]`, `{"a": [1, {"b": "c"}], "d\"e": "f\\g\n"}`,
		`[[[[["deep"]]]]]`, `{"k": "<tag> & \u0001 \u2028 é"}`, `[1e300, 1e-300, 123456789012]`,
	} {
		j, _, err := types.JSON.Convert(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		written := asText(t, ctx, j)
		if n := jsonSize(j.(sql.JSONWrapper), 1<<20); n != int64(len(written)) {
			t.Errorf("%s: meter %d, written %d (%s)", doc, n, len(written), written)
		}
		v, _ := j.(sql.JSONWrapper).ToInterface()
		pretty, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		m := jsonMeter{limit: 1 << 20, pretty: true}
		if m.value(v, 0); m.n < int64(len(pretty)) {
			t.Errorf("%s: pretty meter %d, written %d", doc, m.n, len(pretty))
		}
	}
}
