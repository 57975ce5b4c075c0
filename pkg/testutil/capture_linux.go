package testutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// EtherType values for StartCapture.
const (
	EtherTypeAll  = unix.ETH_P_ALL  // every frame, received and sent
	EtherTypeARP  = unix.ETH_P_ARP  // ARP, received only
	EtherTypeIPv6 = unix.ETH_P_IPV6 // IPv6 (neighbour discovery among others), received only
)

// A Frame is one captured Ethernet frame.
type Frame struct {
	// Time is the kernel's receive timestamp (SO_TIMESTAMPNS), so the
	// spacing of frames is exact even when the capturing goroutine is
	// slow; the read time if the kernel gave none.
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
// socket is opened while the thread is in ns. Only EtherTypeAll also sees
// the frames the capturing namespace sends itself; a socket bound to one
// EtherType sees received frames only.
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
	oob := make([]byte, 128)
	rc, err := c.conn.SyscallConn()
	if err == nil {
		err = timestamps(rc)
	}
	for err == nil {
		var n, oobn int
		rerr := rc.Read(func(fd uintptr) bool {
			n, oobn, _, _, err = unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT)
			return !errors.Is(err, unix.EAGAIN)
		})
		if rerr != nil {
			err = rerr
			break
		}
		if err != nil {
			break
		}
		ts := rxTime(oob[:oobn])
		c.mu.Lock()
		c.frames = append(c.frames, Frame{Time: ts, Data: append([]byte(nil), buf[:n]...)})
		c.cond.Broadcast()
		c.mu.Unlock()
	}
	c.mu.Lock()
	if !c.closed && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
		c.err = fmt.Errorf("read frame: %w", err)
	}
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
}

// timestamps asks the kernel for receive timestamps on the socket.
func timestamps(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("enable receive timestamps: %w", serr)
	}
	return nil
}

// rxTime extracts the SO_TIMESTAMPNS control message, or returns now.
func rxTime(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= 16 {
				ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				return time.Unix(ts.Unix())
			}
		}
	}
	return time.Now()
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
