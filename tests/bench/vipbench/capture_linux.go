package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

// An arp is a gratuitous ARP frame seen on the peer, with the kernel's
// receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME).
type arp struct {
	at time.Time
	op int // 1 request, 2 reply
}

// A capture records the gratuitous ARP frames for one address arriving on
// an interface of a namespace.
type capture struct {
	fd     int
	ip     netip.Addr
	done   chan struct{} // closed to stop the reader
	exited chan struct{} // closed by the reader
	once   sync.Once

	mu     sync.Mutex
	frames []arp
	err    error
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// startCapture opens an AF_PACKET socket for ARP on ifname inside ns.
func startCapture(ns netns.NsHandle, ifname string, ip netip.Addr) (*capture, error) {
	c := &capture{ip: ip, done: make(chan struct{}), exited: make(chan struct{}), fd: -1}
	err := benchkit.InNS(ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		c.fd = fd
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index}); err != nil {
			return fmt.Errorf("bind to %s: %w", ifname, err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			return fmt.Errorf("SO_TIMESTAMPNS: %w", err)
		}
		tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		if c.fd >= 0 {
			unix.Close(c.fd)
		}
		return nil, err
	}
	go c.read()
	return c, nil
}

func (c *capture) read() {
	defer close(c.exited)
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	for {
		select {
		case <-c.done:
			return
		default:
		}
		n, oobn, _, _, err := unix.Recvmsg(c.fd, buf, oob, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		at, ok := timestamp(oob[:oobn])
		if !ok {
			at = time.Now()
		}
		if op, ok := garpOf(buf[:n], c.ip); ok {
			c.mu.Lock()
			c.frames = append(c.frames, arp{at: at, op: op})
			c.mu.Unlock()
		}
	}
}

func timestamp(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return time.Unix(sec, nsec), true
		}
	}
	return time.Time{}, false
}

// garpOf returns the ARP operation of frame when it is a gratuitous ARP for
// ip (sender IP = target IP = ip).
func garpOf(frame []byte, ip netip.Addr) (int, bool) {
	if len(frame) < 42 || binary.BigEndian.Uint16(frame[12:14]) != unix.ETH_P_ARP {
		return 0, false
	}
	p := frame[14:]
	spa, _ := netip.AddrFromSlice(p[14:18])
	tpa, _ := netip.AddrFromSlice(p[24:28])
	if spa != ip || tpa != ip {
		return 0, false
	}
	return int(binary.BigEndian.Uint16(p[6:8])), true
}

// count returns how many frames were captured so far.
func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

// since returns the frames from index i on.
func (c *capture) since(i int) []arp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]arp(nil), c.frames[i:]...)
}

// quiet waits until at least want frames arrived after index i and none for
// gap, or until timeout, and returns those frames.
func (c *capture) quiet(i, want int, gap, timeout time.Duration) []arp {
	deadline := time.Now().Add(timeout)
	last, lastChange := -1, time.Now()
	for time.Now().Before(deadline) {
		n := c.count() - i
		if n != last {
			last, lastChange = n, time.Now()
		}
		if n >= want && time.Since(lastChange) >= gap {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c.since(i)
}

// close stops the capture and releases its socket; it may be called more
// than once.
func (c *capture) close() error {
	c.once.Do(func() {
		close(c.done)
		<-c.exited // the reader wakes at least every 50 ms (SO_RCVTIMEO)
		unix.Close(c.fd)
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
