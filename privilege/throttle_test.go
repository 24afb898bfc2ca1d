package privilege

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tcpAddr(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000} }

// fakeClock is a throttle's clock and wait: time stands still, and every
// wait is recorded instead of slept.
type fakeClock struct {
	now    time.Time
	waited []time.Duration
}

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
		got = append(got, th.Delay(a))
		th.Failed(a)
	}
	s := time.Second
	assert.Equal(t, []time.Duration{0, 0, 0, s, 2 * s, 3 * s, 4 * s, 5 * s, 5 * s}, got,
		"as connection_control: none for the first 3 failures, then the minimum, one more per failure, up to the maximum")

	for range 1000 {
		th.Failed(a)
	}
	assert.Equal(t, 5*s, th.Delay(a), "no overflow however many failures")
}

func TestThrottleSuccessForgetsTheAddress(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	th := NewLoginThrottle(ThrottleThreshold(2), ThrottleDelays(time.Second, time.Minute), clk.option())
	a := tcpAddr("192.0.2.1")
	th.Failed(a)
	th.Failed(a)
	d, err := th.Wait(context.Background(), a)
	require.NoError(t, err)
	assert.Equal(t, time.Second, d, "the attempt after the threshold waits, a successful one too")

	th.Succeeded(a)
	assert.Zero(t, th.Delay(a))
	assert.Zero(t, th.Len())
	th.Failed(a)
	assert.Zero(t, th.Delay(a), "counting starts afresh")
}

func TestThrottleDoesNotDelayOtherAddresses(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	th := NewLoginThrottle(ThrottleThreshold(1), clk.option())
	attacker, other := tcpAddr("192.0.2.1"), tcpAddr("192.0.2.2")
	for range 5 {
		th.Failed(attacker)
	}
	d, err := th.Wait(context.Background(), other)
	require.NoError(t, err)
	assert.Zero(t, d)
	assert.Empty(t, clk.waited, "an address without failures never waits")
	assert.Equal(t, 5*time.Second, th.Delay(attacker))
}

func TestThrottleCountsAcrossPortsAndIPv6Networks(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(2))
	th.Failed(&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1})
	th.Failed(&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 2})
	assert.Equal(t, time.Second, th.Delay(tcpAddr("192.0.2.1")), "one address whatever the port")

	th.Failed(tcpAddr("2001:db8:1:2::1"))
	th.Failed(tcpAddr("2001:db8:1:2:ffff::9"))
	assert.Equal(t, time.Second, th.Delay(tcpAddr("2001:db8:1:2::77")), "one IPv6 /64 is one address")
	assert.Zero(t, th.Delay(tcpAddr("2001:db8:1:3::1")))

	th.Failed(&net.UnixAddr{Name: "/tmp/a.sock", Net: "unix"})
	th.Failed(&net.UnixAddr{Name: "@", Net: "unix"})
	assert.Equal(t, time.Second, th.Delay(&net.UnixAddr{Net: "unix"}), "socket clients are one local address")
}

// Parallel attempts from a throttled address take turns, so that they do
// not all get past after one delay.
func TestThrottleParallelAttemptsTakeTurns(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	th := NewLoginThrottle(ThrottleThreshold(1), ThrottleDelays(time.Second, time.Minute), clk.option())
	a := tcpAddr("192.0.2.1")
	th.Failed(a)
	for range 3 {
		_, err := th.Wait(context.Background(), a)
		require.NoError(t, err)
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, clk.waited)

	// Once the turns have passed, an attempt waits its own delay only.
	clk.now = clk.now.Add(time.Hour)
	clk.waited = nil
	_, err := th.Wait(context.Background(), a)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second}, clk.waited)
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(1), ThrottleAddresses(2))
	a, b, c := tcpAddr("192.0.2.1"), tcpAddr("192.0.2.2"), tcpAddr("192.0.2.3")
	th.Failed(a)
	th.Failed(b)
	th.Failed(a) // a failed last: b is now the least recent
	th.Failed(c)
	assert.Equal(t, 2, th.Len())
	assert.Zero(t, th.Delay(b), "the least recently failed address is forgotten")
	assert.Equal(t, 2*time.Second, th.Delay(a))
	assert.Equal(t, time.Second, th.Delay(c))

	big := NewLoginThrottle()
	for i := range DefaultThrottleAddresses + 500 {
		big.Failed(&net.TCPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))})
	}
	assert.Equal(t, DefaultThrottleAddresses, big.Len())
}

// The wait ends with its context (the handshake deadline), and never holds
// the login past it.
func TestThrottleWaitEndsWithTheContext(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(1), ThrottleDelays(time.Hour, time.Hour))
	a := tcpAddr("192.0.2.1")
	th.Failed(a)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := th.Wait(ctx, a)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, time.Hour, d)
}

func TestThrottleOff(t *testing.T) {
	th := NewLoginThrottle(ThrottleThreshold(0))
	assert.Nil(t, th)
	a := tcpAddr("192.0.2.1")
	for range 10 {
		th.Failed(a)
	}
	d, err := th.Wait(context.Background(), a)
	assert.NoError(t, err)
	assert.Zero(t, d)
	assert.Zero(t, th.Len())
}
