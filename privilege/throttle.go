package privilege

import (
	"container/list"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// LoginThrottle slows password guessing from one client address, in the
// spirit of MySQL's connection_control plugin: once an address has failed
// Threshold logins in a row (over all accounts), each further attempt from
// it waits before it is verified, MinDelay for the first and MinDelay more
// for each failure after it, up to MaxDelay; a successful login from the
// address ends the delays. Unlike connection_control, which counts per
// user@host, it counts per address, so that spreading guesses over many
// user names gains nothing.
//
// Attempts from one throttled address take turns: each waits for its delay
// after the previous one's turn, so that parallel connections do not share
// one delay. Other addresses are never delayed.
//
// Memory is bounded: it remembers the failures of at most Addresses
// addresses (10 000 by default), forgetting the least recently failed
// first. An attacker with more addresses than that can thus make it forget
// an address; IPv6 clients are counted per /64 so that one host's
// addresses count as one.
//
// A nil *LoginThrottle never delays.
type LoginThrottle struct {
	threshold int
	minDelay  time.Duration
	maxDelay  time.Duration
	capacity  int
	now       func() time.Time
	wait      func(ctx context.Context, d time.Duration) error
	mu        sync.Mutex
	byAddr    map[string]*list.Element // of *failedAddr
	lru       *list.List               // front: the latest failure
	// remembered is len(byAddr), read without the lock: while no address
	// has failures, as on a healthy server, a login costs one load here.
	remembered atomic.Int64
}

type failedAddr struct {
	key      string
	failures int
	// turn is when the last delayed attempt's wait ends; the next one
	// waits its delay after that.
	turn time.Time
}

// ThrottleOption configures a LoginThrottle.
type ThrottleOption func(*LoginThrottle)

// ThrottleThreshold sets how many consecutive failures an address may have
// before its attempts are delayed (default 3, MySQL's); 0 or less turns the
// throttle off.
func ThrottleThreshold(n int) ThrottleOption {
	return func(t *LoginThrottle) { t.threshold = n }
}

// ThrottleDelays sets the first delay and the most any delay grows to
// (defaults 1 s, MySQL's minimum, and 30 s). A zero leaves the default.
func ThrottleDelays(minDelay, maxDelay time.Duration) ThrottleOption {
	return func(t *LoginThrottle) {
		if minDelay > 0 {
			t.minDelay = minDelay
		}
		if maxDelay > 0 {
			t.maxDelay = maxDelay
		}
	}
}

// ThrottleAddresses sets how many addresses' failures are remembered
// (default 10 000).
func ThrottleAddresses(n int) ThrottleOption {
	return func(t *LoginThrottle) {
		if n > 0 {
			t.capacity = n
		}
	}
}

// throttleClock replaces time.Now and the wait, for tests.
func throttleClock(now func() time.Time, wait func(context.Context, time.Duration) error) ThrottleOption {
	return func(t *LoginThrottle) { t.now, t.wait = now, wait }
}

// Defaults of NewLoginThrottle.
const (
	DefaultLoginFailureThreshold = 3
	DefaultLoginDelayMin         = time.Second
	DefaultLoginDelayMax         = 30 * time.Second
	DefaultThrottleAddresses     = 10_000
)

// NewLoginThrottle returns a throttle with the defaults and what opts
// change; nil if the threshold is 0 or less, which never delays.
func NewLoginThrottle(opts ...ThrottleOption) *LoginThrottle {
	t := &LoginThrottle{
		threshold: DefaultLoginFailureThreshold,
		minDelay:  DefaultLoginDelayMin,
		maxDelay:  DefaultLoginDelayMax,
		capacity:  DefaultThrottleAddresses,
		now:       time.Now,
		wait:      sleep,
		byAddr:    map[string]*list.Element{},
		lru:       list.New(),
	}
	for _, o := range opts {
		o(t)
	}
	if t.threshold <= 0 {
		return nil
	}
	t.maxDelay = max(t.maxDelay, t.minDelay)
	return t
}

// sleep waits d, or until ctx ends, whichever is first: a throttled login
// never outlives its handshake.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait delays a login attempt from addr as its failures require, and
// returns how long it waited. It returns ctx's error if ctx ends first
// (the handshake's deadline).
func (t *LoginThrottle) Wait(ctx context.Context, addr net.Addr) (time.Duration, error) {
	if t == nil || t.remembered.Load() == 0 {
		return 0, nil
	}
	d := t.reserve(throttleKey(addr))
	if d <= 0 {
		return 0, nil
	}
	return d, t.wait(ctx, d)
}

// reserve takes the next turn of key's attempts and returns how long the
// attempt must wait for it.
func (t *LoginThrottle) reserve(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.byAddr[key]
	if el == nil {
		return 0
	}
	f := el.Value.(*failedAddr)
	d := t.delayFor(f.failures)
	if d == 0 {
		return 0
	}
	now := t.now()
	f.turn = later(now, f.turn).Add(d)
	return f.turn.Sub(now)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Delay is how long the next attempt from addr would wait if no other
// attempt from it were waiting.
func (t *LoginThrottle) Delay(addr net.Addr) time.Duration {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if el := t.byAddr[throttleKey(addr)]; el != nil {
		return t.delayFor(el.Value.(*failedAddr).failures)
	}
	return 0
}

// delayFor is MinDelay times the failures past the threshold, the first
// one included, capped at MaxDelay.
func (t *LoginThrottle) delayFor(failures int) time.Duration {
	over := failures - t.threshold + 1
	if over <= 0 {
		return 0
	}
	if time.Duration(over) > t.maxDelay/t.minDelay {
		return t.maxDelay
	}
	return min(time.Duration(over)*t.minDelay, t.maxDelay)
}

// Failed records a failed login from addr.
func (t *LoginThrottle) Failed(addr net.Addr) {
	if t == nil {
		return
	}
	key := throttleKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	if el := t.byAddr[key]; el != nil {
		el.Value.(*failedAddr).failures++
		t.lru.MoveToFront(el)
		return
	}
	if t.lru.Len() >= t.capacity {
		oldest := t.lru.Back()
		delete(t.byAddr, oldest.Value.(*failedAddr).key)
		t.lru.Remove(oldest)
	}
	t.byAddr[key] = t.lru.PushFront(&failedAddr{key: key, failures: 1})
	t.remembered.Store(int64(len(t.byAddr)))
}

// Succeeded records a successful login from addr, which forgets its
// failures.
func (t *LoginThrottle) Succeeded(addr net.Addr) {
	if t == nil || t.remembered.Load() == 0 {
		return
	}
	key := throttleKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	if el := t.byAddr[key]; el != nil {
		delete(t.byAddr, key)
		t.lru.Remove(el)
		t.remembered.Store(int64(len(t.byAddr)))
	}
}

// Len is how many addresses have failures remembered.
func (t *LoginThrottle) Len() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}

// throttleKey is the address a login is counted under: the IP without the
// port, an IPv6 one cut to its /64 (one host's share of a network); every
// Unix socket client is one local address, as MySQL's localhost.
func throttleKey(addr net.Addr) string {
	switch a := addr.(type) {
	case *net.TCPAddr:
		if ip4 := a.IP.To4(); ip4 != nil {
			return ip4.String()
		}
		return a.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
	case *net.UnixAddr:
		return "unix"
	case nil:
		return ""
	}
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		return host
	}
	return addr.String()
}
