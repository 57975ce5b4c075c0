package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// newNS creates an anonymous network namespace from a throw-away locked
// thread, so the caller never moves. It is freed when its handle is closed
// and no process or socket holds it.
func newNS() (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{netns.None(), err}
			return
		}
		defer orig.Close()
		ns, err := netns.New()
		if err != nil {
			ch <- result{netns.None(), fmt.Errorf("unshare network namespace: %w", err)} // thread dies locked
			return
		}
		if err := netns.Set(orig); err != nil {
			ns.Close()
			ch <- result{netns.None(), fmt.Errorf("restore network namespace: %w", err)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{ns, nil}
	}()
	r := <-ch
	return r.ns, r.err
}

// inNS runs fn on a locked thread switched into ns. A thread that cannot
// be switched back stays locked and dies with its goroutine.
func inNS(ns netns.NsHandle, fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			ch <- err
			return
		}
		err = fn()
		if rerr := netns.Set(orig); rerr != nil {
			ch <- errors.Join(err, rerr)
			return
		}
		runtime.UnlockOSThread()
		ch <- err
	}()
	return <-ch
}

// A lab is the benchmark's world: the agent namespace with lan0 and the
// peer namespace with peer0, joined by a veth pair.
type lab struct {
	ns, peer netns.NsHandle
	mac      net.HardwareAddr // lan0's
}

const (
	labNIC  = "lan0"
	peerNIC = "peer0"
)

func newLab() (*lab, error) {
	l := &lab{}
	var err error
	if l.ns, err = newNS(); err != nil {
		return nil, err
	}
	if l.peer, err = newNS(); err != nil {
		l.ns.Close()
		return nil, err
	}
	if err := l.setup(); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *lab) setup() error {
	h, err := netlink.NewHandleAt(l.ns, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	hp, err := netlink.NewHandleAt(l.peer, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer hp.Close()
	// IPv4 only: no IPv6 router solicitations or MLD reports in the way.
	for _, ns := range []netns.NsHandle{l.ns, l.peer} {
		if err := inNS(ns, func() error {
			return os.WriteFile("/proc/sys/net/ipv6/conf/default/disable_ipv6", []byte("1"), 0)
		}); err != nil {
			return fmt.Errorf("disable IPv6: %w", err)
		}
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = labNIC
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: peerNIC, PeerNamespace: netlink.NsFd(int(l.peer))}); err != nil {
		return fmt.Errorf("add veth: %w", err)
	}
	for _, s := range []struct {
		h    *netlink.Handle
		name string
		cidr string
	}{{h, "lo", ""}, {h, labNIC, "192.0.2.1/24"}, {hp, "lo", ""}, {hp, peerNIC, "192.0.2.2/24"}} {
		link, err := s.h.LinkByName(s.name)
		if err != nil {
			return err
		}
		if s.cidr != "" {
			a, err := netlink.ParseAddr(s.cidr)
			if err != nil {
				return err
			}
			if err := s.h.AddrAdd(link, a); err != nil {
				return fmt.Errorf("add %s to %s: %w", s.cidr, s.name, err)
			}
		}
		if err := s.h.LinkSetUp(link); err != nil {
			return fmt.Errorf("set %s up: %w", s.name, err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		a, err1 := h.LinkByName(labNIC)
		b, err2 := hp.LinkByName(peerNIC)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if a.Attrs().OperState == netlink.OperUp && b.Attrs().OperState == netlink.OperUp {
			l.mac = a.Attrs().HardwareAddr
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("veth pair not up after 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// close kills every process left in the lab's namespaces (background ARP
// senders) and releases the namespaces.
func (l *lab) close() {
	for _, ns := range []netns.NsHandle{l.ns, l.peer} {
		if ns.IsOpen() {
			killIn(ns)
			ns.Close()
		}
	}
}

// killIn sends SIGKILL to every process whose network namespace is ns.
func killIn(ns netns.NsHandle) {
	var st unix.Stat_t
	if err := unix.Fstat(int(ns), &st); err != nil {
		return
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		link, err := os.Readlink(filepath.Join(d, "ns", "net"))
		if err != nil || link != want {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(strings.TrimPrefix(d, "/proc/"), &pid); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// hasAddr reports whether ip is configured in the agent namespace.
func (l *lab) hasAddr(ip string) (bool, error) {
	h, err := netlink.NewHandleAt(l.ns, unix.NETLINK_ROUTE)
	if err != nil {
		return false, err
	}
	defer h.Close()
	addrs, err := h.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if a.IP.String() == ip {
			return true, nil
		}
	}
	return false, nil
}
