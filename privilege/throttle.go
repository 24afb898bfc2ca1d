package privilege

import (
	"container/list"
	"context"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authplug/authplug/mysqlerr"
)

// LoginThrottle slows password guessing, in the spirit of MySQL's
// connection_control plugin: once a user name has failed Threshold logins
// from one client address, each further attempt at it from there waits
// before it is verified, MinDelay for the first and MinDelay more for each
// failure after it, up to MaxDelay.
//
// It counts twice. Per (address, user name), as connection_control does
// per user@host: a successful login clears that user's failures from that
// address and nobody else's, so that logging in as one account of one's
// own does not reset the count of guesses at another (root). And per
// address over all user names, with a threshold addrThresholdFactor times
// higher, so that spraying guesses over many user names from one address
// is slowed too. An attempt waits the longer of the two delays.
//
// A delay never outlasts the login: it is cut so that the handshake has
// loginMargin (or half of what is left, if less) after it to finish, so a
// right password from a throttled address still logs in and clears its
// failures. Parallel attempts from one address each wait the same delay,
// computed from the failures so far, rather than queue behind each other:
// a queue would push an honest login behind an attacker's attempts past
// its deadline, which is the lock-out the throttle must not cause, and
// parallelism is bounded already by max_connections.
//
// Failures are forgotten forgetAfter(MaxDelay) after the last one, so a
// few old mistakes do not slow an address for ever. Memory is bounded: it
// remembers at most Addresses addresses and as many (address, user name)
// pairs (10 000 each by default), forgetting the least recently failed
// first; an attacker with more addresses than that can thus make it forget
// one. IPv6 clients are counted per /64, so one host's addresses count as
// one.
//
// A nil *LoginThrottle never delays.
type LoginThrottle struct {
	threshold int
	minDelay  time.Duration
	maxDelay  time.Duration
	forget    time.Duration
	capacity  int
	now       func() time.Time
	wait      func(ctx context.Context, d time.Duration) error
	mu        sync.Mutex
	addrs     failureLRU // by throttleKey
	users     failureLRU // by userKey
	// remembered is how many entries addrs and users hold, read without
	// the lock: while nothing has failed, as on a healthy server, a login
	// costs one load here.
	remembered atomic.Int64
}

// addrThresholdFactor is how many times more failures an address may have
// over all user names than one user name from it before it is delayed: a
// shared address (NAT, a proxy) has many users, each making mistakes.
const addrThresholdFactor = 10

// loginMargin is the time a delayed login keeps to finish before its
// handshake deadline: a full authentication's RSA or TLS exchange and the
// hashing take well under it.
const loginMargin = 2 * time.Second

// minForget is the least time failures are remembered after the last one.
const minForget = 10 * time.Minute

// ThrottleOption configures a LoginThrottle.
type ThrottleOption func(*LoginThrottle)

// ThrottleThreshold sets how many failures a user name may have from one
// address before its attempts from there are delayed (default 3, MySQL's);
// an address is delayed for all user names after 10 times as many. 0 or
// less turns the throttle off.
func ThrottleThreshold(n int) ThrottleOption {
	return func(t *LoginThrottle) { t.threshold = n }
}

// ThrottleDelays sets the first delay and the most any delay grows to
// (defaults 1 s, MySQL's minimum, and 30 s). A zero leaves the default.
// The handshake deadline caps the delay too.
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

// ThrottleAddresses sets how many addresses, and how many (address, user
// name) pairs, have their failures remembered (default 10 000).
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
		addrs:     newFailureLRU(),
		users:     newFailureLRU(),
	}
	for _, o := range opts {
		o(t)
	}
	if t.threshold <= 0 {
		return nil
	}
	t.maxDelay = max(t.maxDelay, t.minDelay)
	t.forget = forgetAfter(t.maxDelay)
	return t
}

// forgetAfter is how long failures are remembered after the last one:
// long enough that waiting out the longest delay a few times does not wipe
// the slate, short enough that an address is not held to old mistakes.
func forgetAfter(maxDelay time.Duration) time.Duration {
	const longest = time.Duration(math.MaxInt64)
	return max(10*min(maxDelay, longest/10), minForget)
}

// sleep waits d, or until ctx ends, whichever is first.
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

// Wait delays a login attempt as user from addr as the failures require,
// and returns how long it waited. The delay is cut to leave the attempt
// time to finish before ctx's deadline (the handshake's); Wait returns
// ctx's error if ctx ends first all the same.
func (t *LoginThrottle) Wait(ctx context.Context, addr net.Addr, user string) (time.Duration, error) {
	if t == nil || t.remembered.Load() == 0 {
		return 0, nil
	}
	d := t.Delay(addr, user)
	if deadline, ok := ctx.Deadline(); ok {
		d = min(d, room(deadline.Sub(t.now())))
	}
	if d <= 0 {
		return 0, nil
	}
	return d, t.wait(ctx, d)
}

// room is how long an attempt with left until its deadline may wait and
// still finish: left less loginMargin, or half of left if that is less.
func room(left time.Duration) time.Duration {
	return max(left-min(loginMargin, left/2), 0)
}

// Delay is how long the next attempt as user from addr waits, before the
// handshake deadline cuts it.
func (t *LoginThrottle) Delay(addr net.Addr, user string) time.Duration {
	if t == nil {
		return 0
	}
	key := throttleKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	d := max(t.delayFor(t.users.count(userKey(key, user), now, t.forget), t.threshold),
		t.delayFor(t.addrs.count(key, now, t.forget), addrThresholdFactor*t.threshold))
	// count forgets what has expired.
	t.remembered.Store(int64(t.addrs.len() + t.users.len()))
	return d
}

// delayFor is MinDelay times the failures past threshold, the first one
// included, capped at MaxDelay.
func (t *LoginThrottle) delayFor(failures, threshold int) time.Duration {
	over := failures - threshold + 1
	if over <= 0 {
		return 0
	}
	if time.Duration(over) > t.maxDelay/t.minDelay {
		return t.maxDelay
	}
	return min(time.Duration(over)*t.minDelay, t.maxDelay)
}

// Failed records a failed login as user from addr.
func (t *LoginThrottle) Failed(addr net.Addr, user string) {
	if t == nil {
		return
	}
	key := throttleKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.users.fail(userKey(key, user), now, t.forget, t.capacity)
	t.addrs.fail(key, now, t.forget, t.capacity)
	t.remembered.Store(int64(t.addrs.len() + t.users.len()))
}

// Succeeded records a successful login as user from addr: that user's
// failures from addr are forgotten, and taken off addr's count. Other user
// names keep theirs.
func (t *LoginThrottle) Succeeded(addr net.Addr, user string) {
	if t == nil || t.remembered.Load() == 0 {
		return
	}
	key := throttleKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if n := t.users.count(userKey(key, user), now, t.forget); n > 0 {
		t.users.remove(userKey(key, user))
		t.addrs.reduce(key, n)
	}
	t.remembered.Store(int64(t.addrs.len() + t.users.len()))
}

// Len is how many addresses have failures remembered.
func (t *LoginThrottle) Len() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addrs.len()
}

// ThrottledLoginError is the refusal of a login whose throttle delay ran
// past its handshake deadline: the same 1045 ConnectionVerification gives
// for a wrong password, so that a client cannot tell the two apart.
func ThrottledLoginError(user string, addr net.Addr, usingPassword bool, cause error) *LoginError {
	return &LoginError{
		Reason: "throttled past the handshake deadline: " + cause.Error(),
		Kind:   LoginThrottled,
		public: mysqlerr.LoginDenied(user, clientOf(addr).host(), usingPassword),
	}
}

// failureLRU counts failures by key, most recently failed first.
type failureLRU struct {
	byKey map[string]*list.Element // of *failureCount
	order *list.List               // front: the latest failure
}

type failureCount struct {
	key   string
	count int
	last  time.Time // of the latest failure
}

func newFailureLRU() failureLRU {
	return failureLRU{byKey: map[string]*list.Element{}, order: list.New()}
}

func (l *failureLRU) len() int { return l.order.Len() }

// count is key's failures, 0 once forget has passed since the last one.
func (l *failureLRU) count(key string, now time.Time, forget time.Duration) int {
	el := l.byKey[key]
	if el == nil {
		return 0
	}
	if f := el.Value.(*failureCount); now.Sub(f.last) < forget {
		return f.count
	}
	l.remove(key)
	return 0
}

// fail counts a failure of key, first dropping the entries whose failures
// are forgotten (the back of the list, as it is in order of last failure)
// and, when full, the least recently failed.
func (l *failureLRU) fail(key string, now time.Time, forget time.Duration, capacity int) {
	for el := l.order.Back(); el != nil && now.Sub(el.Value.(*failureCount).last) >= forget; el = l.order.Back() {
		l.remove(el.Value.(*failureCount).key)
	}
	if el := l.byKey[key]; el != nil {
		f := el.Value.(*failureCount)
		f.count++
		f.last = now
		l.order.MoveToFront(el)
		return
	}
	if l.order.Len() >= capacity {
		l.remove(l.order.Back().Value.(*failureCount).key)
	}
	l.byKey[key] = l.order.PushFront(&failureCount{key: key, count: 1, last: now})
}

// reduce takes n failures off key's count, forgetting it at zero. It does
// not make key more recent: only a failure does.
func (l *failureLRU) reduce(key string, n int) {
	if el := l.byKey[key]; el != nil {
		if f := el.Value.(*failureCount); f.count > n {
			f.count -= n
			return
		}
		l.remove(key)
	}
}

func (l *failureLRU) remove(key string) {
	if el := l.byKey[key]; el != nil {
		delete(l.byKey, key)
		l.order.Remove(el)
	}
}

// userKey is what a user name's failures from an address are counted
// under. The name is bounded as in error texts: no account's name is
// longer, and a client's long one must not grow the throttle's memory.
func userKey(addrKey, user string) string {
	return addrKey + "\x00" + mysqlerr.BoundedName(user)
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
