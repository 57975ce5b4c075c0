//go:build linux

package netif

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// benchRoutes is a main-plus-local routing table of 50 routes, as
// RouteFor's netlink dump may return on a busy node: connected /24s on 20
// links, overlapping prefixes with different metrics, one linkdown, routes
// via gateways, unreachable and blackhole routes, local-table entries, a
// default route and IPv6 prefixes.
func benchRoutes() []netlink.Route {
	var rs []netlink.Route
	for i := range 20 {
		rs = append(rs, rt(fmt.Sprintf("10.0.%d.0/24", i), 2+i, 0))
	}
	rs = append(rs,
		rt("10.0.0.0/16", 30, 100),
		rt("10.0.5.0/24", 31, 50),
		rt("10.0.5.0/24", 32, 10, flags(unix.RTNH_F_LINKDOWN)),
		rt("10.0.5.0/25", 33, 500),
		rt("0.0.0.0/0", 2, 0, scope(netlink.SCOPE_UNIVERSE)),
	)
	for i := range 10 {
		rs = append(rs, rt(fmt.Sprintf("172.16.%d.0/24", i), 3, 0, scope(netlink.SCOPE_UNIVERSE)))
	}
	rs = append(rs,
		rt("10.1.0.0/16", 4, 0, typ(unix.RTN_UNREACHABLE)),
		rt("10.2.0.0/16", 4, 0, typ(unix.RTN_BLACKHOLE)),
	)
	for i := range 5 {
		rs = append(rs, rt(fmt.Sprintf("10.0.%d.1/32", i), 2+i, 0, table(unix.RT_TABLE_LOCAL), typ(unix.RTN_LOCAL), scope(netlink.SCOPE_HOST)))
	}
	for i := range 8 {
		rs = append(rs, rt(fmt.Sprintf("2001:db8:%x::/64", i), 2+i, 256))
	}
	return rs
}

func BenchmarkBestRoute(b *testing.B) {
	routes := benchRoutes()
	if len(routes) != 50 {
		b.Fatalf("%d routes, want 50", len(routes))
	}
	for _, tt := range []struct{ name, ip string }{
		{"IPv4", "10.0.5.10"}, // four candidates: /16, two /24 (one linkdown), /25
		{"IPv6", "2001:db8:3::10"},
		{"none", "198.51.100.1"},
	} {
		ip := netip.MustParseAddr(tt.ip)
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = BestRoute(routes, ip)
			}
		})
	}
}
