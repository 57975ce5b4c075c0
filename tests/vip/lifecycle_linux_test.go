package vip

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/pkg/testutil"
)

const (
	recurring = "OCF_RESKEY_CRM_meta_interval=10000"
	probe     = "OCF_RESKEY_CRM_meta_interval=0"
)

// TestLifecycle runs what ocf-tester and Pacemaker do to one resource:
// probe, start, monitor, start again, stop, stop again, for IPv4 and IPv6
// with explicit and detected placement. The IPv6 cases run duplicate
// address detection with the kernel's default timing (1-2 s).
func TestLifecycle(t *testing.T) {
	tests := []struct {
		name   string
		ip     string
		params []string
		prefix int
	}{
		{"ipv4 explicit", vip4, []string{"nic=" + nic, "cidr_netmask=24"}, 24},
		{"ipv4 detected", vip4, nil, 24},
		{"ipv4 /32", vip4, []string{"cidr_netmask=32"}, 32},
		{"ipv6 explicit", vip6, []string{"nic=" + nic, "cidr_netmask=64"}, 64},
		{"ipv6 detected, other spelling", "2001:DB8:1:0::100", nil, 64},
		{"ipv6 link-local", "fe80::100", []string{"nic=" + nic}, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			canon := netip.MustParseAddr(tt.ip).String()
			if netip.MustParseAddr(tt.ip).Is6() {
				testutil.Sysctl(t, w.ns, "net.ipv6.conf."+nic+".accept_dad", "1")
			}
			p := append([]string{"ip=" + tt.ip, "arp_count=1"}, tt.params...)

			w.must(7, "monitor", append(p, probe)...)
			w.must(7, "monitor", append(p, recurring)...)
			w.must(0, "validate-all", p...)
			w.must(0, "validate-all", append(p, "OCF_CHECK_LEVEL=10")...)
			r := w.must(0, "start", p...)
			a := w.has(canon, nic, tt.prefix)
			if a.flags&unix.IFA_F_TENTATIVE != 0 {
				t.Errorf("%s is still tentative after start (%v)", canon, r.wall())
			}
			w.must(0, "monitor", append(p, recurring)...)
			w.must(0, "monitor", append(p, probe)...)
			w.must(0, "status", append(p, recurring)...)
			w.must(0, "start", p...)
			w.has(canon, nic, tt.prefix)
			if got := w.stateFiles(); len(got) != 1 {
				t.Errorf("state files after start: %v, want the record only", got)
			}
			w.must(0, "stop", p...)
			w.hasNot(canon)
			w.must(7, "monitor", append(p, recurring)...)
			w.must(7, "monitor", append(p, probe)...)
			w.must(0, "stop", p...)
			if got := w.stateFiles(); len(got) != 0 {
				t.Errorf("state files after stop: %v, want none", got)
			}
		})
	}
}

// TestDetect checks the choice of interface and prefix from the routing
// table: longest prefix, then lowest metric; blackhole, unreachable and
// prohibit routes ignored; a clear error when nothing matches.
func TestDetect(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// A second link, lan1, to another peer, and routes pointing both ways.
	peer2 := testutil.NewNS(t)
	testutil.Veth(t, w.ns, "lan1", peer2, "peer1")
	testutil.AddAddr(t, w.ns, "lan1", "198.51.100.1/24")
	add := func(dev, p string, metric int) {
		pfx := netip.MustParsePrefix(p)
		r := &netlink.Route{Dst: prefixNet(pfx), Priority: metric}
		if pfx.Addr().Is4() {
			r.Scope = netlink.SCOPE_LINK
		}
		testutil.AddRoute(t, w.ns, dev, r)
	}
	typed := func(p string, typ int) {
		pfx := netip.MustParsePrefix(p)
		r := &netlink.Route{Dst: prefixNet(pfx), Type: typ}
		testutil.AddRoute(t, w.ns, "", r)
	}
	add("lan1", "192.0.2.64/26", 0)            // longer than lan0's /24
	typed("192.0.2.96/28", unix.RTN_BLACKHOLE) // longer still, ignored
	typed("192.0.2.100/32", unix.RTN_UNREACHABLE)
	typed("192.0.2.101/32", unix.RTN_PROHIBIT)
	add(nic, "10.1.0.0/24", 200) // same prefix, higher metric
	add("lan1", "10.1.0.0/24", 50)
	add(nic, "10.2.0.0/16", 0)
	add("lan1", "2001:db8:2::/48", 0)
	add(nic, "2001:db8:2:5::/64", 0)

	tests := []struct {
		ip     string
		params []string
		dev    string
		prefix int
	}{
		{"192.0.2.100", nil, "lan1", 26},
		{"192.0.2.101", nil, "lan1", 26},
		{"192.0.2.10", nil, nic, 24},
		{"192.0.2.100", []string{"nic=" + nic}, nic, 24},         // nic filters the routes
		{"192.0.2.100", []string{"cidr_netmask=28"}, "lan1", 28}, // prefix given, nic detected
		{"192.0.2.100", []string{"nic=lan1", "netmask=255.255.255.240"}, "lan1", 28},
		{"10.1.0.7", nil, "lan1", 24},
		{"10.2.200.1", nil, nic, 16},
		{"2001:db8:2:5::7", nil, nic, 64},
		{"2001:db8:2:6::7", nil, "lan1", 48},
		{"2001:db8:1::7", nil, nic, 64}, // the prefix route of lan0's own address
	}
	for _, tt := range tests {
		p := append([]string{"ip=" + tt.ip, "arp_count=0", "nodad=true"}, tt.params...)
		w.must(0, "start", p...)
		w.has(tt.ip, tt.dev, tt.prefix)
		w.must(0, "monitor", append(p, recurring)...)
		w.must(0, "stop", p...)
		w.hasNot(tt.ip)
	}

	// Nothing matches: 2 with a reason, at start and at validate-all level
	// 10; a probe says 7 and a stop 0. The host stays as it was.
	before := w.stableDump()
	for _, p := range [][]string{
		{"ip=203.0.113.5"},
		{"ip=203.0.113.5", "nic=" + nic},
		{"ip=2001:db8:99::1"},
	} {
		for _, action := range []string{"start", "validate-all"} {
			kv := append(p, "OCF_CHECK_LEVEL=10")
			r := w.must(2, action, kv...)
			if !strings.Contains(r.reason(), "no route") || !strings.Contains(r.reason(), "cidr_netmask") {
				t.Errorf("%s %v: exit reason %q, want one naming the missing route and cidr_netmask", action, p, r.reason())
			}
		}
		w.must(7, "monitor", append(p, probe)...)
		w.must(0, "stop", p...)
	}
	if after := w.dump(); after != before {
		t.Errorf("failed starts changed the host:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
