package privilege

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzHostPattern compiles account hosts and matches them against clients:
// matching is total and deterministic, and a pattern with wildcards
// matches exactly what a plain reference LIKE says.
func FuzzHostPattern(f *testing.F) {
	for _, h := range []string{"%", "", "localhost", "10.0.0.%", "192.168.1.0/255.255.255.0", "10.0.0.0/8", "%.example.com", "host_1", `a\_b`, "::1", "fe80::%"} {
		f.Add(h, []byte{10, 0, 0, 7}, false)
		f.Add(h, []byte{127, 0, 0, 1}, true)
	}
	f.Add("2001:db8::/32", netip.MustParseAddr("2001:db8::1").AsSlice(), false)
	f.Fuzz(func(t *testing.T, h string, ip []byte, local bool) {
		var c client
		if a, ok := netip.AddrFromSlice(ip); ok {
			c = clientFromIP(a.Unmap())
		}
		if local {
			c = client{name: "localhost"}
		}
		m := compileHost(h)
		got := m.matches(c)
		if m2 := compileHost(h); m2.matches(c) != got || m2.rank() != m.rank() {
			t.Fatalf("%q: compiling twice gives another answer", h)
		}
		switch m.kind {
		case hostPattern:
			want := c.name != "" && refLike(strings.ToLower(h), strings.ToLower(c.name)) ||
				c.ip.IsValid() && refLike(strings.ToLower(h), c.ip.String())
			if got != want {
				t.Fatalf("%q against %+v: matches %v, reference LIKE %v", h, c, got, want)
			}
		case hostLiteral:
			if got && !(c.ip.IsValid() && c.ip == m.ip || strings.EqualFold(c.name, h)) {
				t.Fatalf("literal %q matches %+v", h, c)
			}
		case hostNetmask:
			if got && (!c.ip.IsValid() || local) {
				t.Fatalf("netmask %q matches a client without an address", h)
			}
		}
	})
}

// refLike is SQL LIKE by dynamic programming over the pattern's tokens:
// % any run, _ one byte, \x the byte x, a final \ itself.
func refLike(pattern, s string) bool {
	type tok struct {
		any, one bool
		lit      byte
	}
	var toks []tok
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '%':
			toks = append(toks, tok{any: true})
		case c == '_':
			toks = append(toks, tok{one: true})
		case c == '\\' && i+1 < len(pattern):
			i++
			toks = append(toks, tok{lit: pattern[i]})
		default:
			toks = append(toks, tok{lit: c})
		}
	}
	// m[j]: the tokens so far match s[:j].
	m := make([]bool, len(s)+1)
	m[0] = true
	for _, k := range toks {
		next := make([]bool, len(s)+1)
		for j := 0; j <= len(s); j++ {
			switch {
			case k.any:
				next[j] = m[j] || j > 0 && next[j-1]
			case j == 0:
			case k.one:
				next[j] = m[j-1]
			default:
				next[j] = m[j-1] && s[j-1] == k.lit
			}
		}
		m = next
	}
	return m[len(s)]
}
