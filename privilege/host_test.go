package privilege

import (
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/authplug/authplug/priv"
)

func TestLikeMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"%", "", true},
		{"%", "anything", true},
		{"192.168.1.%", "192.168.1.20", true},
		{"192.168.1.%", "192.168.10.2", false},
		{"%.example.com", "db.example.com", true},
		{"%.example.com", "example.com", false},
		{"h_st", "host", true},
		{"h_st", "hst", false},
		{"a%b%c", "axxbyyc", true},
		{"a%b%c", "axxbyy", false},
		{`a\%`, "a%", true},
		{`a\%`, "ab", false},
		{`a\_b`, "a_b", true},
		{`a\_b`, "axb", false},
		{"%%", "x", true},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, likeMatch(c.pattern, c.s), "%q LIKE %q", c.s, c.pattern)
	}
}

func tcp(ip string) client { return clientOf(&net.TCPAddr{IP: net.ParseIP(ip), Port: 1}) }

func TestHostMatching(t *testing.T) {
	unix := clientOf(&net.UnixAddr{Name: "/s", Net: "unix"})
	cases := []struct {
		host string
		c    client
		want bool
	}{
		{"localhost", unix, true},
		{"localhost", tcp("127.0.0.1"), true},
		{"localhost", tcp("::1"), true},
		{"localhost", tcp("10.0.0.1"), false},
		{"LOCALHOST", unix, true},
		{"127.0.0.1", tcp("127.0.0.1"), true},
		{"127.0.0.1", unix, false},
		{"10.0.0.1", tcp("::ffff:10.0.0.1"), true},
		{"10.0.0.%", tcp("10.0.0.77"), true},
		{"10.0.0.%", tcp("10.0.1.77"), false},
		{"10.0.0.0/255.255.255.0", tcp("10.0.0.77"), true},
		{"10.0.0.0/255.255.255.0", tcp("10.0.1.77"), false},
		{"10.0.0.0/24", tcp("10.0.0.77"), true},
		{"10.0.0.0/8", tcp("11.0.0.1"), false},
		{"2001:db8::/32", tcp("2001:db8::5"), true},
		{"2001:db8::/32", tcp("10.0.0.1"), false},
		{"10.0.0.0/garbage", tcp("10.0.0.1"), false},
		{"%", tcp("8.8.8.8"), true},
		{"", unix, true},
		{"db.example.com", tcp("10.0.0.1"), false},
	}
	for _, c := range cases {
		m := compileHost(c.host)
		assert.Equal(t, c.want, m.matches(c.c), "host %q vs %+v", c.host, c.c)
	}
}

func TestLoginPicksTheMostSpecificAccount(t *testing.T) {
	s := NewMemStore()
	add := func(user, host string) {
		t.Helper()
		err := s.Update(func(tx *Tx) error {
			return tx.CreateUser(priv.Account{User: user, Host: host}, IdentifiedAs("mysql_native_password", ""))
		})
		assert.NoError(t, err)
	}
	add("bob", "%")
	add("bob", "10.0.%")
	add("bob", "10.0.0.%")
	add("bob", "10.0.0.0/255.255.255.0")
	add("", "localhost")
	add("bob", "")

	cases := []struct {
		user string
		c    client
		want priv.Account
	}{
		// A literal or netmask host beats every pattern.
		{"bob", tcp("10.0.0.9"), priv.Account{User: "bob", Host: "10.0.0.0/255.255.255.0"}},
		// The later the first wildcard, the more specific.
		{"bob", tcp("10.0.1.9"), priv.Account{User: "bob", Host: "10.0.%"}},
		{"bob", tcp("192.0.2.1"), priv.Account{User: "bob", Host: "%"}},
		// MySQL's classic surprise: the anonymous ''@localhost sorts before
		// 'bob'@'%' because its host is more specific.
		{"bob", tcp("127.0.0.1"), priv.Account{User: "", Host: "localhost"}},
		{"carol", tcp("127.0.0.1"), priv.Account{User: "", Host: "localhost"}},
		{"carol", tcp("192.0.2.1"), priv.Account{}},
	}
	for _, c := range cases {
		e := s.Snapshot().match(c.user, c.c)
		var got priv.Account
		if e != nil {
			got = e.user.Account
		}
		assert.Equal(t, c.want, got, "%s from %v", c.user, c.c.ip)
	}
}

func TestClientOfUnusualAddresses(t *testing.T) {
	assert.Equal(t, client{}, clientOf(nil))
	c := clientOf(fakeAddr("192.0.2.7:3306"))
	assert.Equal(t, netip.MustParseAddr("192.0.2.7"), c.ip)
	assert.Equal(t, client{}, clientOf(fakeAddr("not an address")))
}

type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }
