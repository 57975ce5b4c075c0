package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

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
	if l.ns, err = benchkit.NewNS(); err != nil {
		return nil, err
	}
	if l.peer, err = benchkit.NewNS(); err != nil {
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
	// IPv4 only: no IPv6 router solicitations or MLD reports in the way.
	for _, ns := range []netns.NsHandle{l.ns, l.peer} {
		if err := benchkit.Sysctl(ns, "net/ipv6/conf/default/disable_ipv6", "1"); err != nil {
			return fmt.Errorf("disable IPv6: %w", err)
		}
	}
	if err := benchkit.Veth(l.ns, labNIC, 0, l.peer, peerNIC); err != nil {
		return err
	}
	for _, s := range []struct {
		ns         netns.NsHandle
		name, cidr string
	}{{l.ns, labNIC, "192.0.2.1/24"}, {l.peer, peerNIC, "192.0.2.2/24"}} {
		if err := benchkit.AddAddr(s.ns, s.name, s.cidr); err != nil {
			return fmt.Errorf("add %s to %s: %w", s.cidr, s.name, err)
		}
	}
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
			benchkit.KillIn(ns)
			ns.Close()
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
