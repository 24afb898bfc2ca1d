package privilege

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
)

func tcpAddr(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000} }

// fakeClock is a throttle's clock and wait: time moves only when a test
// moves it, and every wait is recorded instead of slept. It starts at the
// real time so that contexts with deadlines relative to it are live.
type fakeClock struct {
	now    time.Time
	waited []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) option() ThrottleOption {
	return throttleClock(func() time.Time { return c.now }, func(_ context.Context, d time.Duration) error {
		c.waited = append(c.waited, d)
		return nil
	})
}

func TestThrottleDelayGrowsPastTheThresholdAndIsCapped(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(3), ThrottleDelays(time.Second, 5*time.Second))
	a := tcpAddr("192.0.2.1")
	var got []time.Duration
	for range 9 {
		got = append(got, th.Delay(a, "root"))
		th.Failed(a, "root")
	}
	s := time.Second
	assert.Equal(t, []time.Duration{0, 0, 0, s, 2 * s, 3 * s, 4 * s, 5 * s, 5 * s}, got,
		"as connection_control: none for the first 3 failures, then the minimum, one more per failure, up to the maximum")

	for range 1000 {
		th.Failed(a, "root")
	}
	assert.Equal(t, 5*s, th.Delay(a, "root"), "no overflow however many failures")
}

func TestThrottleSuccessForgetsTheUsersFailures(t *testing.T) {
	clk := newFakeClock()
	th := NewLoginThrottle(ThrottleThreshold(2), ThrottleDelays(time.Second, time.Minute), clk.option())
	a := tcpAddr("192.0.2.1")
	th.Failed(a, "root")
	th.Failed(a, "root")
	d, err := th.Wait(context.Background(), a, "root")
	require.NoError(t, err)
	assert.Equal(t, time.Second, d, "the attempt after the threshold waits, a successful one too")

	th.Succeeded(a, "root")
	assert.Zero(t, th.Delay(a, "root"))
	assert.Zero(t, th.Len())
	th.Failed(a, "root")
	assert.Zero(t, th.Delay(a, "root"), "counting starts afresh")
}

// One valid account of an attacker's own does not reset the count of
// guesses at another from the same address.
func TestThrottleSuccessOfAnotherUserClearsNothing(t *testing.T) {
	clk := newFakeClock()
	th := NewLoginThrottle(ThrottleThreshold(3), ThrottleDelays(time.Second, time.Minute), clk.option())
	a := tcpAddr("192.0.2.1")
	for range 3 {
		for range 3 {
			th.Failed(a, "root")
		}
		th.Succeeded(a, "b1")
	}
	assert.Equal(t, 7*time.Second, th.Delay(a, "root"), "9 failures at root, none forgotten")
	assert.Zero(t, th.Delay(a, "b1"), "b1 itself has no failures")
	assert.Zero(t, th.Delay(tcpAddr("192.0.2.2"), "root"), "nor root from elsewhere")
}

// Spreading guesses over many user names from one address is slowed by
// the address's own count, at ten times the threshold.
func TestThrottleCountsAnAddressOverAllUserNames(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(3), ThrottleDelays(time.Second, time.Minute))
	a := tcpAddr("192.0.2.1")
	for i := range 29 {
		th.Failed(a, "user"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	assert.Zero(t, th.Delay(a, "root"), "29 failures over 29 names: under 10 × 3")
	th.Failed(a, "another")
	assert.Equal(t, time.Second, th.Delay(a, "root"), "the 30th delays every name from the address")
	assert.Zero(t, th.Delay(tcpAddr("192.0.2.2"), "root"))

	// A success takes only its own user's failures off the address.
	th.Succeeded(a, "another")
	assert.Zero(t, th.Delay(a, "root"))
}

func TestThrottleDoesNotDelayOtherAddresses(t *testing.T) {
	clk := newFakeClock()
	th := NewLoginThrottle(ThrottleThreshold(1), clk.option())
	attacker, other := tcpAddr("192.0.2.1"), tcpAddr("192.0.2.2")
	for range 5 {
		th.Failed(attacker, "root")
	}
	d, err := th.Wait(context.Background(), other, "root")
	require.NoError(t, err)
	assert.Zero(t, d)
	assert.Empty(t, clk.waited, "an address without failures never waits")
	assert.Equal(t, 5*time.Second, th.Delay(attacker, "root"))
}

func TestThrottleCountsAcrossPortsAndIPv6Networks(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(2))
	th.Failed(&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}, "u")
	th.Failed(&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 2}, "u")
	assert.Equal(t, time.Second, th.Delay(tcpAddr("192.0.2.1"), "u"), "one address whatever the port")

	th.Failed(tcpAddr("2001:db8:1:2::1"), "u")
	th.Failed(tcpAddr("2001:db8:1:2:ffff::9"), "u")
	assert.Equal(t, time.Second, th.Delay(tcpAddr("2001:db8:1:2::77"), "u"), "one IPv6 /64 is one address")
	assert.Zero(t, th.Delay(tcpAddr("2001:db8:1:3::1"), "u"))

	th.Failed(&net.UnixAddr{Name: "/tmp/a.sock", Net: "unix"}, "u")
	th.Failed(&net.UnixAddr{Name: "@", Net: "unix"}, "u")
	assert.Equal(t, time.Second, th.Delay(&net.UnixAddr{Net: "unix"}, "u"), "socket clients are one local address")
}

// Parallel attempts from a throttled address all wait the same delay, from
// the failures so far: none is pushed behind the others.
func TestThrottleParallelAttemptsWaitTheSameDelay(t *testing.T) {
	const attempts = 40
	now := time.Now()
	// Each wait is recorded and then held until every attempt waits: were
	// one held behind another, not all would be waiting at once.
	var mu sync.Mutex
	var waited []time.Duration
	release := make(chan struct{})
	wait := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waited = append(waited, d)
		mu.Unlock()
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	th := NewLoginThrottle(ThrottleThreshold(1), ThrottleDelays(time.Second, time.Minute),
		throttleClock(func() time.Time { return now }, wait))
	a := tcpAddr("192.0.2.1")
	th.Failed(a, "root")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, attempts)
	for range attempts {
		go func() {
			_, err := th.Wait(ctx, a, "root")
			errs <- err
		}()
	}
	waiting := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(waited)
	}
	require.Eventually(t, func() bool { return waiting() == attempts }, 5*time.Second, time.Millisecond,
		"every attempt waits at the same time")
	close(release)
	for range attempts {
		require.NoError(t, <-errs) // each attempt ends with ctx at the latest
	}
	for _, d := range waited {
		assert.Equal(t, time.Second, d)
	}
}

// However many failures, the delay leaves the login time to finish before
// its handshake deadline: root logging in from an address an attacker
// shares still gets in, which clears root's failures.
func TestThrottleDelayEndsBeforeTheHandshakeDeadline(t *testing.T) {
	clk := newFakeClock()
	th := NewLoginThrottle(ThrottleThreshold(3), ThrottleDelays(time.Second, 30*time.Second), clk.option())
	a := tcpAddr("192.0.2.1")
	for range 100 {
		th.Failed(a, "root")
	}
	require.Equal(t, 30*time.Second, th.Delay(a, "root"))

	ctx, cancel := context.WithDeadline(context.Background(), clk.now.Add(10*time.Second))
	defer cancel()
	d, err := th.Wait(ctx, a, "root")
	require.NoError(t, err)
	assert.Equal(t, 8*time.Second, d, "the deadline less the margin")

	// A short handshake keeps half its time.
	ctx, cancel = context.WithDeadline(context.Background(), clk.now.Add(time.Second))
	defer cancel()
	d, err = th.Wait(ctx, a, "root")
	require.NoError(t, err)
	assert.Equal(t, 500*time.Millisecond, d)

	th.Succeeded(a, "root")
	assert.Zero(t, th.Delay(a, "root"), "the login that got in cleared the failures")
}

func TestThrottleFailuresExpire(t *testing.T) {
	clk := newFakeClock()
	th := NewLoginThrottle(ThrottleThreshold(1), ThrottleDelays(time.Second, 5*time.Second), clk.option())
	a := tcpAddr("192.0.2.1")
	th.Failed(a, "root")
	th.Failed(a, "root")
	clk.now = clk.now.Add(9 * time.Minute)
	assert.Equal(t, 2*time.Second, th.Delay(a, "root"), "remembered for 10 minutes")
	th.Failed(a, "root")
	clk.now = clk.now.Add(9 * time.Minute)
	assert.Equal(t, 3*time.Second, th.Delay(a, "root"), "from the last failure")
	clk.now = clk.now.Add(time.Minute)
	assert.Zero(t, th.Delay(a, "root"), "forgotten 10 minutes after it")
	assert.Zero(t, th.Len())
	d, err := th.Wait(context.Background(), a, "root")
	require.NoError(t, err)
	assert.Zero(t, d)

	assert.Equal(t, time.Hour, forgetAfter(6*time.Minute), "ten times a long maximum delay")
	assert.Equal(t, 10*time.Minute, forgetAfter(time.Second))
	assert.Positive(t, forgetAfter(time.Duration(1<<62)), "no overflow")
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(1), ThrottleAddresses(2))
	a, b, c := tcpAddr("192.0.2.1"), tcpAddr("192.0.2.2"), tcpAddr("192.0.2.3")
	th.Failed(a, "u")
	th.Failed(b, "u")
	th.Failed(a, "u") // a failed last: b is now the least recent
	th.Failed(c, "u")
	assert.Equal(t, 2, th.Len())
	assert.Zero(t, th.Delay(b, "u"), "the least recently failed address is forgotten")
	assert.Equal(t, 2*time.Second, th.Delay(a, "u"))
	assert.Equal(t, time.Second, th.Delay(c, "u"))

	big := NewLoginThrottle()
	for i := range DefaultThrottleAddresses + 500 {
		big.Failed(&net.TCPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))}, "u")
	}
	assert.Equal(t, DefaultThrottleAddresses, big.Len())

	// Many user names from one address: as many pairs at most.
	one := NewLoginThrottle(ThrottleAddresses(100))
	for i := range 1000 {
		one.Failed(a, string(rune(0x4e00+i)))
	}
	assert.Equal(t, 1, one.Len())
	assert.Equal(t, 100, one.users.len())
}

// The wait ends with its context, and never holds the login past it.
func TestThrottleWaitEndsWithTheContext(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(1), ThrottleDelays(time.Hour, time.Hour))
	a := tcpAddr("192.0.2.1")
	th.Failed(a, "u")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := th.Wait(ctx, a, "u")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, time.Hour, d)
}

// A login cut short by the throttle is refused as a wrong password is.
func TestThrottledLoginErrorIsAccessDenied(t *testing.T) {
	err := ThrottledLoginError("root", tcpAddr("192.0.2.1"), true, context.DeadlineExceeded)
	assert.Equal(t, mysqlerr.LoginDenied("root", "192.0.2.1", true).Error(), err.Error())
	assert.EqualValues(t, mysqlerr.ErAccessDenied, mysqlerr.Code(err))
	assert.Contains(t, err.Reason, "throttled")
	assert.Equal(t, LoginThrottled, err.Kind)
}

func TestThrottleOff(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(0))
	assert.Nil(t, th)
	a := tcpAddr("192.0.2.1")
	for range 10 {
		th.Failed(a, "u")
	}
	th.Succeeded(a, "u")
	d, err := th.Wait(context.Background(), a, "u")
	assert.NoError(t, err)
	assert.Zero(t, d)
	assert.Zero(t, th.Len())
	assert.Zero(t, th.Delay(a, "u"))
}
