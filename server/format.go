package server

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// FORMAT(X, D[, locale]) is the host's: the engine's made the whole part
// an int64 and the rounded value a decimal from a float, so that
// FORMAT(1e300, 30) panicked ("Cannot create a Decimal from +Inf") and
// FORMAT(1e20, 0) overflowed, and it asserted that the locale was a
// string (FORMAT(1, 2, 3) panicked). As MySQL 8 does:
//
//   - D is rounded to an integer and kept within 0 to 30 decimals;
//   - an exact X (an integer or a DECIMAL) is rounded half away from zero
//     at D decimals, exactly, whatever its size;
//   - any other X is read as a double (a string as MySQL reads a number
//     from one: FORMAT('abc', 2) is 0.00 with warning 1292), multiplied by
//     10^D, rounded half to even and divided back, unless the product is
//     no longer finite (1e300 at 30 decimals), when it is kept as it is;
//     then written with the shortest digits that read back as the same
//     double and padded with zeros to D decimals: FORMAT(1e300, 30) is a 1
//     and 300 zeros, grouped, and 30 zero decimals;
//   - the whole part is grouped by thousands, with the locale's separators
//     (those the engine used: golang.org/x/text's, English for a locale
//     it does not know); no decimal point when D is 0.
//
// A double that is no number (the engine's 1e308 * 10 is +Inf, MySQL's
// 1690) is 1690.
func formatEval(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
	x, d := args[0], args[1]
	if x.v == nil || d.v == nil {
		return nil, nil
	}
	places := formatPlaces(ctx, d.v)
	digits, exact := exactDigits(x.v, places)
	if !exact {
		a, err := finite(ctx, x)
		if err != nil {
			return nil, err
		}
		v, ok := a.v.(float64)
		if !ok {
			c, _, err := types.Float64.Convert(ctx, a.v)
			if err != nil {
				return nil, err
			}
			v, _ = c.(float64)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, outOfRange(x.Expression)
			}
		}
		digits = doubleDigits(v, places)
	}
	tag := language.English
	if len(args) == 3 && args[2].v != nil {
		if name, err := text(ctx, args[2].v); err == nil {
			if t, err := language.Parse(name); err == nil {
				tag = t
			}
		}
	}
	return groupDigits(digits, localeSeparators(tag)), nil
}

// maxFormatPlaces is the most decimals FORMAT writes.
const maxFormatPlaces = 30

// formatPlaces is FORMAT's D as MySQL reads it (integerArg), within 0 to
// 30.
func formatPlaces(ctx *sql.Context, v any) int {
	return min(max(integerArg(ctx, v), 0), maxFormatPlaces)
}

// leadingInteger is the integer s starts with (after spaces), 0 if none.
func leadingInteger(s string) float64 {
	t := strings.TrimLeft(s, " \t\n\r\f\v")
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	j := i
	for j < len(t) && t[j] >= '0' && t[j] <= '9' {
		j++
	}
	if j == i {
		return 0
	}
	n, _ := strconv.ParseFloat(t[:j], 64)
	return n
}

// exactDigits is an integer or DECIMAL x rounded half away from zero and
// written with exactly places decimals, and whether x is one.
func exactDigits(x any, places int) (string, bool) {
	var d decimal.Decimal
	switch v := x.(type) {
	case decimal.Decimal:
		d = v
	case int8:
		d = decimal.NewFromInt(int64(v))
	case int16:
		d = decimal.NewFromInt(int64(v))
	case int32:
		d = decimal.NewFromInt(int64(v))
	case int64:
		d = decimal.NewFromInt(v)
	case int:
		d = decimal.NewFromInt(int64(v))
	case uint8:
		d = decimal.NewFromInt(int64(v))
	case uint16:
		d = decimal.NewFromInt(int64(v))
	case uint32:
		d = decimal.NewFromInt(int64(v))
	case uint64:
		d = decimal.NewFromBigInt(new(big.Int).SetUint64(v), 0)
	case bool:
		if v {
			d = decimal.NewFromInt(1)
		}
	default:
		return "", false
	}
	return d.Round(int32(places)).StringFixed(int32(places)), true
}

// doubleDigits is v rounded at places decimals as MySQL rounds a double
// (doubleRound), written with places decimals.
func doubleDigits(v float64, places int) string {
	r := doubleRound(v, places)
	s := strconv.FormatFloat(r, 'f', -1, 64)
	have := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		have = len(s) - i - 1
	}
	switch {
	case have > places:
		return strconv.FormatFloat(r, 'f', places, 64)
	case have == places:
		return s
	case have == 0:
		s += "."
	}
	return s + strings.Repeat("0", places-have)
}

// separators are a locale's thousands separator and decimal point.
type separators struct{ group, point string }

var localeSeps sync.Map // a language tag's String() -> separators

// localeSeparators are the separators golang.org/x/text writes for tag,
// English's where it writes digits other than ASCII ones.
func localeSeparators(tag language.Tag) separators {
	key := tag.String()
	if s, ok := localeSeps.Load(key); ok {
		return s.(separators)
	}
	seps := separators{group: ",", point: "."}
	p := message.NewPrinter(tag)
	if s := p.Sprintf("%v", number.Decimal(1234567)); strings.HasPrefix(s, "1") && strings.HasSuffix(s, "567") {
		if i := strings.Index(s, "234"); i >= 1 {
			seps.group = s[1:i]
		}
	}
	if s := p.Sprintf("%v", number.Decimal(1.5)); len(s) >= 3 && s[0] == '1' && s[len(s)-1] == '5' {
		seps.point = s[1 : len(s)-1]
	}
	localeSeps.Store(key, seps)
	return seps
}

// groupDigits writes digits ("-1234.50") with seps: "-1,234.50".
func groupDigits(digits string, seps separators) string {
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	whole, frac, hasFrac := strings.Cut(digits, ".")
	var b strings.Builder
	b.Grow(len(digits) + len(digits)/3*len(seps.group) + len(seps.point) + 1)
	b.WriteString(sign)
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(seps.group)
		}
		b.WriteByte(whole[i])
	}
	if hasFrac {
		b.WriteString(seps.point)
		b.WriteString(frac)
	}
	return b.String()
}
