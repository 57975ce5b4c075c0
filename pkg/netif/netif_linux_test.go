package netif

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hanet/hanet/pkg/testutil"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func openAt(t *testing.T, ns netns.NsHandle) *Handle {
	t.Helper()
	h, err := OpenAt(ns)
	if err != nil {
		t.Fatalf("OpenAt: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestOpenInNS(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	ns := testutil.NewNS(t)
	testutil.Veth(t, ns, "va", ns, "vb")
	var names []string
	err := testutil.Do(t, ns, func() error {
		h, err := Open()
		if err != nil {
			return err
		}
		defer h.Close()
		links, err := h.Links()
		if err != nil {
			return err
		}
		for _, l := range links {
			names = append(names, l.Attrs().Name)
		}
		// Subscriptions of an Open handle follow the calling thread.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = h.WaitOperUp(ctx, "va")
		return err
	})
	if err != nil {
		t.Fatalf("Open and Links in namespace: %v", err)
	}
	slices.Sort(names)
	if got := strings.Join(names, " "); got != "lo va vb" {
		t.Errorf("links = %s, want lo va vb", got)
	}
}

func TestLinkByName(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	ns := testutil.NewNS(t)
	testutil.Veth(t, ns, "va", ns, "vb")
	h := openAt(t, ns)
	tests := []struct {
		name    string
		wantErr error
	}{
		{"va", nil},
		{"lo", nil},
		{"eth9", ErrLinkNotFound},
		{"a-long-alternative-name-that-is-absent", ErrLinkNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := h.LinkByName(tt.name)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("LinkByName(%q) error = %v, want %v", tt.name, err, tt.wantErr)
			}
			if err == nil && l.Attrs().Name != tt.name {
				t.Errorf("LinkByName(%q) = %s", tt.name, l.Attrs().Name)
			}
			if err == nil {
				if _, err := h.LinkByIndex(l.Attrs().Index); err != nil {
					t.Errorf("LinkByIndex(%d): %v", l.Attrs().Index, err)
				}
			}
		})
	}
	if _, err := h.LinkByIndex(999999); !errors.Is(err, ErrLinkNotFound) {
		t.Errorf("LinkByIndex(999999) error = %v, want ErrLinkNotFound", err)
	}
}

func TestFindAddr(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	ns := testutil.NewNS(t)
	testutil.Veth(t, ns, "va", ns, "vb")
	testutil.AddAddr(t, ns, "va", "192.0.2.10/24")
	testutil.AddAddr(t, ns, "vb", "198.51.100.7/32")
	testutil.AddAddr(t, ns, "vb", "2001:db8::10/64")
	testutil.AddAddr(t, ns, "va", "fe80::99/64")
	testutil.AddAddr(t, ns, "vb", "fe80::99/64")
	h := openAt(t, ns)
	tests := []struct {
		ip       string
		wantLink string
		wantBits int
		wantErr  error
	}{
		{"192.0.2.10", "va", 24, nil},
		{"::ffff:192.0.2.10", "va", 24, nil},
		{"198.51.100.7", "vb", 32, nil},
		{"2001:db8::10", "vb", 64, nil},
		{"2001:DB8:0:0:0::0010", "vb", 64, nil},
		{"2001:0db8:0000:0000:0000:0000:0000:0010", "vb", 64, nil},
		{"fe80::99%vb", "vb", 64, nil},
		{"fe80::99%va", "va", 64, nil},
		{"fe80::99%lo", "", 0, ErrAddrNotFound},
		{"192.0.2.11", "", 0, ErrAddrNotFound},
		{"2001:db8::11", "", 0, ErrAddrNotFound},
		{"127.0.0.1", "lo", 8, nil},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			link, addr, err := h.FindAddr(netip.MustParseAddr(tt.ip))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("FindAddr(%s) error = %v, want %v", tt.ip, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			ones, _ := addr.Mask.Size()
			if link.Attrs().Name != tt.wantLink || ones != tt.wantBits {
				t.Errorf("FindAddr(%s) = %s /%d, want %s /%d", tt.ip, link.Attrs().Name, ones, tt.wantLink, tt.wantBits)
			}
		})
	}
	// Zone by index.
	vb := testutil.Link(t, ns, "vb")
	ip := netip.MustParseAddr("fe80::99").WithZone(strconv.Itoa(vb.Attrs().Index))
	if link, _, err := h.FindAddr(ip); err != nil || link.Attrs().Name != "vb" {
		t.Errorf("FindAddr(%s) = %v, %v; want vb", ip, link, err)
	}
}

// routeWorld builds one namespace with links va1, va2 (carrier up) and va3
// (carrier down), and routes with several matches.
func routeWorld(t *testing.T) (netns.NsHandle, *Handle) {
	t.Helper()
	ns, peer := testutil.NewNS(t), testutil.NewNS(t)
	testutil.Veth(t, ns, "va1", peer, "vb1")
	testutil.Veth(t, ns, "va2", peer, "vb2")
	testutil.Veth(t, ns, "va3", peer, "vb3")
	testutil.SetDown(t, peer, "vb3") // va3: up, no carrier

	testutil.AddAddr(t, ns, "va1", "10.0.0.1/16")
	testutil.AddAddr(t, ns, "va2", "10.0.1.1/24")
	testutil.AddAddr(t, ns, "va1", "10.9.9.9/32") // local table only
	testutil.AddAddr(t, ns, "va1", "2001:db8:1::1/64")

	dst := func(s string) *net.IPNet {
		p := netip.MustParsePrefix(s)
		return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
	}
	link := netlink.SCOPE_LINK
	testutil.AddRoute(t, ns, "va1", &netlink.Route{Dst: dst("10.1.0.0/24"), Scope: link, Priority: 200})
	testutil.AddRoute(t, ns, "va2", &netlink.Route{Dst: dst("10.1.0.0/24"), Scope: link, Priority: 100})
	testutil.AddRoute(t, ns, "va1", &netlink.Route{Dst: dst("10.2.0.0/24"), Scope: link})
	testutil.AddRoute(t, ns, "", &netlink.Route{Dst: dst("10.2.0.0/25"), Type: unix.RTN_BLACKHOLE})
	testutil.AddRoute(t, ns, "", &netlink.Route{Dst: dst("10.2.0.0/26"), Type: unix.RTN_UNREACHABLE})
	testutil.AddRoute(t, ns, "", &netlink.Route{Dst: dst("10.2.0.0/27"), Type: unix.RTN_PROHIBIT})
	testutil.AddRoute(t, ns, "va1", &netlink.Route{Dst: dst("10.3.0.0/24"), Gw: net.ParseIP("10.0.0.254")})
	testutil.AddRoute(t, ns, "va1", &netlink.Route{Dst: dst("0.0.0.0/0"), Gw: net.ParseIP("10.0.0.254")})
	testutil.AddRoute(t, ns, "va3", &netlink.Route{Dst: dst("10.4.0.0/24"), Scope: link, Priority: 10})
	testutil.AddRoute(t, ns, "va1", &netlink.Route{Dst: dst("10.4.0.0/24"), Scope: link, Priority: 100})
	testutil.AddRoute(t, ns, "va3", &netlink.Route{Dst: dst("10.5.0.0/24"), Scope: link})
	testutil.AddRoute(t, ns, "va2", &netlink.Route{Dst: dst("2001:db8::/32"), Priority: 1024})
	testutil.AddRoute(t, ns, "", &netlink.Route{Dst: dst("2001:db8:3::/48"), Type: unix.RTN_BLACKHOLE})
	return ns, openAt(t, ns)
}

func TestRouteFor(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	_, h := routeWorld(t)
	tests := []struct {
		name       string
		ip, dev    string
		wantLink   string
		wantPrefix string
		wantMetric int
		wantSrc    string
		wantDown   bool
		wantErr    error
	}{
		{name: "connected", ip: "10.0.0.50", wantLink: "va1", wantPrefix: "10.0.0.0/16", wantSrc: "10.0.0.1"},
		{name: "longer prefix wins", ip: "10.0.1.50", wantLink: "va2", wantPrefix: "10.0.1.0/24", wantSrc: "10.0.1.1"},
		{name: "lower metric wins", ip: "10.1.0.5", wantLink: "va2", wantPrefix: "10.1.0.0/24", wantMetric: 100},
		{name: "dev filter", ip: "10.1.0.5", dev: "va1", wantLink: "va1", wantPrefix: "10.1.0.0/24", wantMetric: 200},
		{name: "dev filter, no route on dev", ip: "10.0.1.50", dev: "va3", wantErr: ErrNoRoute},
		{name: "absent dev", ip: "10.0.1.50", dev: "eth9", wantErr: ErrLinkNotFound},
		{name: "blackhole, unreachable, prohibit ignored", ip: "10.2.0.5", wantLink: "va1", wantPrefix: "10.2.0.0/24"},
		{name: "gateway route ignored (IPv4 scope link)", ip: "10.3.0.5", wantErr: ErrNoRoute},
		{name: "default route ignored", ip: "192.0.2.1", wantErr: ErrNoRoute},
		{name: "local table ignored", ip: "10.9.9.9", wantErr: ErrNoRoute},
		{name: "carrier beats lower metric linkdown", ip: "10.4.0.5", wantLink: "va1", wantPrefix: "10.4.0.0/24", wantMetric: 100},
		{name: "linkdown alone is kept", ip: "10.5.0.5", wantLink: "va3", wantPrefix: "10.5.0.0/24", wantDown: true},
		{name: "linkdown with dev", ip: "10.4.0.5", dev: "va3", wantLink: "va3", wantPrefix: "10.4.0.0/24", wantMetric: 10, wantDown: true},
		{name: "IPv6 longest prefix", ip: "2001:db8:1::5", wantLink: "va1", wantPrefix: "2001:db8:1::/64", wantMetric: 256},
		{name: "IPv6 any spelling", ip: "2001:DB8:1:0::0:5", wantLink: "va1", wantPrefix: "2001:db8:1::/64", wantMetric: 256},
		{name: "IPv6 shorter route", ip: "2001:db8:2::5", wantLink: "va2", wantPrefix: "2001:db8::/32", wantMetric: 1024},
		{name: "IPv6 blackhole ignored", ip: "2001:db8:3::5", wantLink: "va2", wantPrefix: "2001:db8::/32", wantMetric: 1024},
		{name: "IPv6 no route", ip: "2001:db9::5", wantErr: ErrNoRoute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := h.RouteFor(netip.MustParseAddr(tt.ip), tt.dev)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RouteFor(%s, %q) = %+v, %v; want error %v", tt.ip, tt.dev, r, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.Link == nil || r.Link.Attrs().Name != tt.wantLink || r.LinkIndex != r.Link.Attrs().Index {
				t.Errorf("link = %v (index %d), want %s", r.Link, r.LinkIndex, tt.wantLink)
			}
			if r.Prefix != netip.MustParsePrefix(tt.wantPrefix) || r.Metric != tt.wantMetric || r.LinkDown != tt.wantDown {
				t.Errorf("prefix, metric, linkdown = %s, %d, %v; want %s, %d, %v",
					r.Prefix, r.Metric, r.LinkDown, tt.wantPrefix, tt.wantMetric, tt.wantDown)
			}
			if tt.wantSrc != "" && r.Src != netip.MustParseAddr(tt.wantSrc) {
				t.Errorf("src = %v, want %s", r.Src, tt.wantSrc)
			}
		})
	}
}

func TestFindAddrOn(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	ns := testutil.NewNS(t)
	testutil.Veth(t, ns, "va", ns, "vb")
	testutil.AddAddr(t, ns, "va", "192.0.2.10/24")
	testutil.AddAddr(t, ns, "vb", "2001:db8::10/64")
	h := openAt(t, ns)
	va, vb := testutil.Link(t, ns, "va"), testutil.Link(t, ns, "vb")
	tests := []struct {
		ip       string
		link     netlink.Link
		wantLink string
		wantErr  error
	}{
		{"192.0.2.10", va, "va", nil},
		{"::ffff:192.0.2.10", va, "va", nil},
		{"192.0.2.10", vb, "", ErrAddrNotFound}, // elsewhere does not count
		{"2001:DB8::0010", vb, "vb", nil},
		{"2001:db8::10", va, "", ErrAddrNotFound},
		{"2001:db8::10", nil, "vb", nil}, // nil: every link
	}
	for _, tt := range tests {
		link, _, err := h.FindAddrOn(tt.link, netip.MustParseAddr(tt.ip))
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("FindAddrOn(%v, %s) error = %v, want %v", tt.link != nil, tt.ip, err, tt.wantErr)
			continue
		}
		if err == nil && link.Attrs().Name != tt.wantLink {
			t.Errorf("FindAddrOn(%s) on %s, want %s", tt.ip, link.Attrs().Name, tt.wantLink)
		}
	}
}
