package privilege

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// client is where a login comes from, as host patterns see it.
type client struct {
	// name is the client's host name: "localhost" for a Unix socket or a
	// loopback address. authplug does no reverse DNS (MySQL's
	// skip_name_resolve), so other clients are known by IP only.
	name string
	ip   netip.Addr
}

func clientOf(addr net.Addr) client {
	switch a := addr.(type) {
	case *net.UnixAddr:
		return client{name: "localhost"}
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return clientFromIP(ip.Unmap())
	case nil:
		return client{}
	default:
		ap, err := netip.ParseAddrPort(addr.String())
		if err != nil {
			return client{}
		}
		return clientFromIP(ap.Addr().Unmap())
	}
}

func clientFromIP(ip netip.Addr) client {
	c := client{ip: ip}
	if ip.IsLoopback() {
		c.name = "localhost"
	}
	return c
}

// host is what error messages call the client: its name, else its IP.
func (c client) host() string {
	if c.name != "" {
		return c.name
	}
	if c.ip.IsValid() {
		return c.ip.String()
	}
	return ""
}

type hostKind uint8

const (
	hostLiteral hostKind = iota // a name or an IP address
	hostNetmask                 // 10.0.0.0/255.0.0.0 or 10.0.0.0/8
	hostPattern                 // contains % or _
	hostAny                     // '%'
	hostEmpty                   // '', also any host, sorted after '%'
)

// hostMatcher is a compiled account host.
type hostMatcher struct {
	kind    hostKind
	pattern string // lower case
	ip      netip.Addr
	mask    []byte // netmask: ip & mask == net
	net     []byte
	wildPos int // position of the first wildcard, for ordering
}

func compileHost(h string) hostMatcher {
	m := hostMatcher{pattern: strings.ToLower(h)}
	switch {
	case h == "":
		m.kind = hostEmpty
	case h == "%":
		m.kind = hostAny
	case strings.Contains(h, "/"):
		if m.compileNetmask(h) {
			m.kind = hostNetmask
		} else {
			m.kind = hostLiteral // never matches an address; as MySQL, it is just a name
		}
	default:
		if pos := firstWildcard(h); pos >= 0 {
			m.kind, m.wildPos = hostPattern, pos
		} else {
			m.kind = hostLiteral
			if ip, err := netip.ParseAddr(h); err == nil {
				m.ip = ip.Unmap()
			}
		}
	}
	return m
}

func (m *hostMatcher) compileNetmask(h string) bool {
	addr, maskText, _ := strings.Cut(h, "/")
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	bitsLen := ip.BitLen()
	var mask []byte
	if n, err := strconv.Atoi(maskText); err == nil {
		if n < 0 || n > bitsLen {
			return false
		}
		mask = net.CIDRMask(n, bitsLen)
	} else {
		mip, err := netip.ParseAddr(maskText)
		if err != nil || mip.Unmap().BitLen() != bitsLen {
			return false
		}
		mask = mip.Unmap().AsSlice()
	}
	m.mask = mask
	m.net = ip.AsSlice()
	return true
}

func firstWildcard(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '%', '_':
			return i
		}
	}
	return -1
}

func (m *hostMatcher) matches(c client) bool {
	switch m.kind {
	case hostAny, hostEmpty:
		return true
	case hostLiteral:
		if m.ip.IsValid() {
			return c.ip == m.ip
		}
		return c.name != "" && strings.EqualFold(c.name, m.pattern)
	case hostNetmask:
		if !c.ip.IsValid() {
			return false
		}
		ip := c.ip.AsSlice()
		if len(ip) != len(m.net) {
			return false
		}
		for i := range ip {
			if ip[i]&m.mask[i] != m.net[i] {
				return false
			}
		}
		return true
	case hostPattern:
		if c.name != "" && likeMatch(m.pattern, strings.ToLower(c.name)) {
			return true
		}
		return c.ip.IsValid() && likeMatch(m.pattern, c.ip.String())
	}
	return false
}

// rank orders hosts most specific first, as MySQL sorts its account table:
// literal names, IPs and netmasks; then patterns, the later the first
// wildcard the more specific; then '%'; then ”.
func (m *hostMatcher) rank() int {
	switch m.kind {
	case hostLiteral, hostNetmask:
		return 0
	case hostPattern:
		return 1<<16 - m.wildPos
	case hostAny:
		return 2 << 16
	}
	return 3 << 16
}

// likeMatch is SQL LIKE: % any run, _ one character, \ escapes.
func likeMatch(pattern, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; {
			case c == '%':
				starP, starI = p, i
				p++
				continue
			case c == '_':
				p++
				i++
				continue
			case c == '\\' && p+1 < len(pattern):
				if pattern[p+1] == s[i] {
					p += 2
					i++
					continue
				}
			case c == s[i]:
				p++
				i++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starI++
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '%' {
		p++
	}
	return p == len(pattern)
}
