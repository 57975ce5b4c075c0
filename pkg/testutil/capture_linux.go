package testutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// EtherType values for StartCapture.
const (
	EtherTypeAll  = unix.ETH_P_ALL  // every frame, both directions
	EtherTypeARP  = unix.ETH_P_ARP  // ARP
	EtherTypeIPv6 = unix.ETH_P_IPV6 // IPv6 (ICMPv6 neighbour discovery among others)
)

// A Frame is one captured Ethernet frame.
type Frame struct {
	// Time is when the capture goroutine read the frame (user space, so
	// scheduling adds jitter of the order of a millisecond).
	Time time.Time
	// Data is the whole frame, starting with the Ethernet header.
	Data []byte
}

// A Capture collects the frames an AF_PACKET socket sees on one interface
// inside a namespace, until Stop.
type Capture struct {
	conn     *packet.Conn
	done     chan struct{}
	stopOnce sync.Once

	mu     sync.Mutex
	cond   *sync.Cond
	frames []Frame
	err    error
	closed bool
}

// StartCapture opens a raw AF_PACKET socket for etherType (EtherTypeAll,
// EtherTypeARP, EtherTypeIPv6, or any other EtherType) on interface ifname
// inside ns and collects frames until Stop, which t.Cleanup also calls. The
// socket is opened while the thread is in ns. With EtherTypeAll, frames sent
// by the capturing host itself are seen too.
func StartCapture(t testing.TB, ns netns.NsHandle, ifname string, etherType int) *Capture {
	t.Helper()
	var conn *packet.Conn
	err := Do(t, ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		conn, err = packet.Listen(ifi, packet.Raw, etherType, nil)
		return err
	})
	if err != nil {
		t.Fatalf("capture on %s: %v", ifname, err)
	}
	c := &Capture{conn: conn, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.read()
	t.Cleanup(func() { c.Stop() })
	return c
}

func (c *Capture) read() {
	defer close(c.done)
	buf := make([]byte, 65536)
	for {
		n, _, err := c.conn.ReadFrom(buf)
		now := time.Now()
		c.mu.Lock()
		if err != nil {
			if !c.closed && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				c.err = fmt.Errorf("read frame: %w", err)
			}
			c.closed = true
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
		c.frames = append(c.frames, Frame{Time: now, Data: append([]byte(nil), buf[:n]...)})
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// Frames returns a copy of the frames collected so far.
func (c *Capture) Frames() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame(nil), c.frames...)
}

// Wait waits until match returns true for the frames collected so far, or
// until timeout, and returns the frames then collected and whether match
// was satisfied.
func (c *Capture) Wait(timeout time.Duration, match func([]Frame) bool) ([]Frame, bool) {
	timer := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)

	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if match(c.frames) {
			return append([]Frame(nil), c.frames...), true
		}
		if c.closed || !time.Now().Before(deadline) {
			return append([]Frame(nil), c.frames...), false
		}
		c.cond.Wait()
	}
}

// Stop closes the socket and returns every frame collected, and the read
// error that ended the capture early, if any. Stop may be called repeatedly.
func (c *Capture) Stop() ([]Frame, error) {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		// Unblock the reader, then release the socket.
		_ = c.conn.SetReadDeadline(time.Unix(1, 0))
		<-c.done
		_ = c.conn.Close()
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame(nil), c.frames...), c.err
}
