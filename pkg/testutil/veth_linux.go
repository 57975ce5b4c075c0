package testutil

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// operUpTimeout bounds WaitOperUp in Veth; linkwatch may delay a carrier
// change by up to a second when many links change at once.
const operUpTimeout = 5 * time.Second

// Veth creates a veth pair, nameA in nsA and nameB in nsB (nsA and nsB may be
// the same namespace), sets both ends up, waits until both are oper-up, and
// returns the two ends as re-read from the kernel (index, MAC, state).
func Veth(t testing.TB, nsA netns.NsHandle, nameA string, nsB netns.NsHandle, nameB string) (a, b netlink.Link) {
	t.Helper()
	ha := Handle(t, nsA)

	attrs := netlink.NewLinkAttrs()
	attrs.Name = nameA
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: nameB}
	if !nsA.Equal(nsB) {
		veth.PeerNamespace = netlink.NsFd(int(nsB))
	}
	if err := ha.LinkAdd(veth); err != nil {
		t.Fatalf("add veth %s/%s: %v", nameA, nameB, err)
	}
	SetUp(t, nsA, nameA)
	SetUp(t, nsB, nameB)
	a = WaitOperUp(t, nsA, nameA, operUpTimeout)
	b = WaitOperUp(t, nsB, nameB, operUpTimeout)
	return a, b
}

// Link returns the link called name in ns, failing the test if it is absent.
func Link(t testing.TB, ns netns.NsHandle, name string) netlink.Link {
	t.Helper()
	l, err := Handle(t, ns).LinkByName(name)
	if err != nil {
		t.Fatalf("find link %s: %v", name, err)
	}
	return l
}

// MAC returns the hardware address of link name in ns.
func MAC(t testing.TB, ns netns.NsHandle, name string) net.HardwareAddr {
	t.Helper()
	return Link(t, ns, name).Attrs().HardwareAddr
}

// SetUp sets link name in ns administratively up. Equivalent to:
// ip link set $name up.
func SetUp(t testing.TB, ns netns.NsHandle, name string) {
	t.Helper()
	h := Handle(t, ns)
	if err := h.LinkSetUp(Link(t, ns, name)); err != nil {
		t.Fatalf("set %s up: %v", name, err)
	}
}

// SetDown sets link name in ns administratively down. Equivalent to:
// ip link set $name down.
func SetDown(t testing.TB, ns netns.NsHandle, name string) {
	t.Helper()
	h := Handle(t, ns)
	if err := h.LinkSetDown(Link(t, ns, name)); err != nil {
		t.Fatalf("set %s down: %v", name, err)
	}
}

// WaitOperUp polls link name in ns until its operational state is up and
// returns it, failing the test after timeout.
func WaitOperUp(t testing.TB, ns netns.NsHandle, name string, timeout time.Duration) netlink.Link {
	t.Helper()
	return WaitOperState(t, ns, name, netlink.OperUp, timeout)
}

// WaitOperState polls link name in ns until its operational state is want
// and returns it, failing the test after timeout. The kernel updates
// operstate asynchronously (linkwatch), so a carrier change is not visible
// at once: wait for it before relying on it.
func WaitOperState(t testing.TB, ns netns.NsHandle, name string, want netlink.LinkOperState, timeout time.Duration) netlink.Link {
	t.Helper()
	h := Handle(t, ns)
	deadline := time.Now().Add(timeout)
	for {
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatalf("find link %s: %v", name, err)
		}
		if l.Attrs().OperState == want {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("link %s: still %s after %v, want %s", name, l.Attrs().OperState, timeout, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// AddAddr adds cidr (e.g. "192.0.2.1/24", "2001:db8::1/64") to link name in
// ns. IPv6 addresses get IFA_F_NODAD so they are usable at once. Equivalent
// to: ip addr add $cidr dev $name [nodad].
func AddAddr(t testing.TB, ns netns.NsHandle, name, cidr string) {
	t.Helper()
	addr := parseAddr(t, cidr)
	if addr.IP.To4() == nil {
		addr.Flags = unix.IFA_F_NODAD
	}
	if err := Handle(t, ns).AddrAdd(Link(t, ns, name), addr); err != nil {
		t.Fatalf("add %s to %s: %v", cidr, name, err)
	}
}

// DelAddr removes cidr from link name in ns. Equivalent to:
// ip addr del $cidr dev $name.
func DelAddr(t testing.TB, ns netns.NsHandle, name, cidr string) {
	t.Helper()
	addr := parseAddr(t, cidr)
	if err := Handle(t, ns).AddrDel(Link(t, ns, name), addr); err != nil {
		t.Fatalf("delete %s from %s: %v", cidr, name, err)
	}
}

func parseAddr(t testing.TB, cidr string) *netlink.Addr {
	t.Helper()
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		t.Fatalf("parse address %q: %v", cidr, err)
	}
	return &netlink.Addr{IPNet: &net.IPNet{
		IP:   p.Addr().AsSlice(),
		Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
	}}
}

// AddRoute adds r in ns, failing the test on error. r.LinkIndex may be left
// zero when dev names the output link. Equivalent to: ip route add ….
func AddRoute(t testing.TB, ns netns.NsHandle, dev string, r *netlink.Route) {
	t.Helper()
	if dev != "" {
		r.LinkIndex = Link(t, ns, dev).Attrs().Index
	}
	if err := Handle(t, ns).RouteAdd(r); err != nil {
		t.Fatalf("add route %s: %v", fmtRoute(r), err)
	}
}

func fmtRoute(r *netlink.Route) string {
	return fmt.Sprintf("%v dev #%d metric %d type %d", r.Dst, r.LinkIndex, r.Priority, r.Type)
}
