package netif

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hanet/hanet/pkg/testutil"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// findIn returns the address ip of link as the kernel lists it.
func findIn(t *testing.T, h *Handle, link netlink.Link, ip string) *netlink.Addr {
	t.Helper()
	addrs, err := h.Addrs(link, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for i := range addrs {
		if addrs[i].IP.Equal(net.ParseIP(ip)) {
			return &addrs[i]
		}
	}
	return nil
}

func hasRoute(t *testing.T, h *Handle, link netlink.Link, prefix string) bool {
	t.Helper()
	family := netlink.FAMILY_V4
	p := netip.MustParsePrefix(prefix)
	if p.Addr().Is6() {
		family = netlink.FAMILY_V6
	}
	routes, err := h.Routes(family, &netlink.Route{LinkIndex: link.Attrs().Index}, netlink.RT_FILTER_OIF)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst != nil && r.Dst.String() == prefix {
			return true
		}
	}
	return false
}

func TestAddrReplace(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	ns := testutil.NewNS(t)
	testutil.Veth(t, ns, "va", ns, "vb")
	h := openAt(t, ns)
	va := testutil.Link(t, ns, "va")
	zero := time.Duration(0)

	tests := []struct {
		name      string
		prefix    string
		opts      AddrOpts
		wantBrd   string
		wantLabel string
		wantFlags int // must be set
		wantRoute string
		noRoute   string
		wantPref  int
	}{
		{name: "v4 computed broadcast", prefix: "192.0.2.10/24", wantBrd: "192.0.2.255", wantLabel: "va", wantRoute: "192.0.2.0/24"},
		{name: "v4 again (idempotent)", prefix: "192.0.2.10/24", wantBrd: "192.0.2.255", wantLabel: "va"},
		{name: "v4 label and explicit broadcast", prefix: "198.51.100.10/25", opts: AddrOpts{Label: "vip", Broadcast: netip.MustParseAddr("198.51.100.127")}, wantBrd: "198.51.100.127", wantLabel: "va:vip"},
		{name: "v4 /32", prefix: "203.0.113.1/32", wantLabel: "va"},
		{name: "v4 noprefixroute", prefix: "203.0.113.130/25", opts: AddrOpts{NoPrefixRoute: true}, wantBrd: "203.0.113.255", wantLabel: "va", wantFlags: unix.IFA_F_NOPREFIXROUTE, noRoute: "203.0.113.128/25"},
		{name: "v6 nodad", prefix: "2001:db8::10/64", opts: AddrOpts{NoDAD: true}, wantFlags: unix.IFA_F_NODAD, wantRoute: "2001:db8::/64", wantPref: infinityLifetime},
		{name: "v6 preferred_lft 0", prefix: "2001:db8:1::10/64", opts: AddrOpts{NoDAD: true, PreferredLft: &zero}, wantFlags: unix.IFA_F_NODAD | unix.IFA_F_DEPRECATED},
		{name: "v6 noprefixroute", prefix: "2001:db8:2::10/64", opts: AddrOpts{NoDAD: true, NoPrefixRoute: true}, wantFlags: unix.IFA_F_NOPREFIXROUTE, noRoute: "2001:db8:2::/64", wantPref: infinityLifetime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := netip.MustParsePrefix(tt.prefix)
			if err := h.AddrReplace(va, p, tt.opts); err != nil {
				t.Fatalf("AddrReplace(%s): %v", p, err)
			}
			a := findIn(t, h, va, p.Addr().String())
			if a == nil {
				t.Fatalf("%s not configured", p)
			}
			if ones, _ := a.Mask.Size(); ones != p.Bits() {
				t.Errorf("prefix length %d, want %d", ones, p.Bits())
			}
			if (tt.wantBrd == "") != (a.Broadcast == nil) || tt.wantBrd != "" && !a.Broadcast.Equal(net.ParseIP(tt.wantBrd)) {
				t.Errorf("broadcast %v, want %q", a.Broadcast, tt.wantBrd)
			}
			if a.Label != tt.wantLabel {
				t.Errorf("label %q, want %q", a.Label, tt.wantLabel)
			}
			if a.Flags&tt.wantFlags != tt.wantFlags {
				t.Errorf("flags %#x, want %#x set", a.Flags, tt.wantFlags)
			}
			if p.Addr().Is6() && a.PreferedLft != tt.wantPref {
				t.Errorf("preferred lifetime %d, want %d", a.PreferedLft, tt.wantPref)
			}
			if tt.wantRoute != "" && !hasRoute(t, h, va, tt.wantRoute) {
				t.Errorf("no prefix route %s", tt.wantRoute)
			}
			if tt.noRoute != "" && hasRoute(t, h, va, tt.noRoute) {
				t.Errorf("prefix route %s present despite noprefixroute", tt.noRoute)
			}
		})
	}

	t.Run("label of existing address is not changed", func(t *testing.T) {
		err := h.AddrReplace(va, netip.MustParsePrefix("192.0.2.10/24"), AddrOpts{Label: "new"})
		if err == nil || !containsAll(err.Error(), "label", "va:new") {
			t.Errorf("AddrReplace with a new label = %v, want a label mismatch error", err)
		}
	})
	t.Run("label too long", func(t *testing.T) {
		if err := h.AddrReplace(va, netip.MustParsePrefix("192.0.2.20/24"), AddrOpts{Label: "0123456789abc"}); err == nil {
			t.Errorf("AddrReplace with a 16-byte label succeeded")
		}
	})
	t.Run("kernel error", func(t *testing.T) {
		gone := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "gone", Index: 999999}}
		if err := h.AddrReplace(gone, netip.MustParsePrefix("192.0.2.30/24"), AddrOpts{}); err == nil {
			t.Errorf("AddrReplace on an absent link succeeded")
		}
	})
	t.Run("delete", func(t *testing.T) {
		for _, s := range []string{"192.0.2.10/24", "2001:db8::10/64"} {
			p := netip.MustParsePrefix(s)
			if err := h.AddrDel(va, p); err != nil {
				t.Fatalf("AddrDel(%s): %v", p, err)
			}
			if a := findIn(t, h, va, p.Addr().String()); a != nil {
				t.Errorf("%s still configured", p)
			}
			if err := h.AddrDel(va, p); !errors.Is(err, ErrAddrNotFound) {
				t.Errorf("second AddrDel(%s) = %v, want ErrAddrNotFound", p, err)
			}
		}
		if err := h.AddrDel(va, netip.MustParsePrefix("198.51.100.10/24")); !errors.Is(err, ErrAddrNotFound) {
			t.Errorf("AddrDel with the wrong prefix length = %v, want ErrAddrNotFound", err)
		}
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
