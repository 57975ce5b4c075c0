package netif

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// rt builds a main-table unicast route for tests; mods adjust it.
func rt(dst string, link, metric int, mods ...func(*netlink.Route)) netlink.Route {
	p := netip.MustParsePrefix(dst)
	r := netlink.Route{
		LinkIndex: link,
		Dst:       &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())},
		Priority:  metric,
		Table:     unix.RT_TABLE_MAIN,
		Type:      unix.RTN_UNICAST,
		Scope:     netlink.SCOPE_LINK,
	}
	if p.Addr().Is6() {
		r.Scope = netlink.SCOPE_UNIVERSE
	}
	for _, m := range mods {
		m(&r)
	}
	return r
}

func typ(t int) func(*netlink.Route)             { return func(r *netlink.Route) { r.Type = t } }
func table(t int) func(*netlink.Route)           { return func(r *netlink.Route) { r.Table = t } }
func scope(s netlink.Scope) func(*netlink.Route) { return func(r *netlink.Route) { r.Scope = s } }
func flags(f int) func(*netlink.Route)           { return func(r *netlink.Route) { r.Flags = f } }
func src(a string) func(*netlink.Route) {
	return func(r *netlink.Route) { r.Src = netip.MustParseAddr(a).AsSlice() }
}

func TestBestRoute(t *testing.T) {
	tests := []struct {
		name       string
		routes     []netlink.Route
		ip         string
		wantLink   int
		wantPrefix string
		wantMetric int
		wantDown   bool
		wantSrc    string
		wantErr    error
	}{
		{
			name:     "single connected route",
			routes:   []netlink.Route{rt("192.0.2.0/24", 2, 0, src("192.0.2.1"))},
			ip:       "192.0.2.10",
			wantLink: 2, wantPrefix: "192.0.2.0/24", wantSrc: "192.0.2.1",
		},
		{
			name:     "longer prefix wins over lower metric",
			routes:   []netlink.Route{rt("10.0.0.0/16", 2, 0), rt("10.0.1.0/24", 3, 500)},
			ip:       "10.0.1.5",
			wantLink: 3, wantPrefix: "10.0.1.0/24", wantMetric: 500,
		},
		{
			name:     "lower metric wins",
			routes:   []netlink.Route{rt("10.0.1.0/24", 2, 200), rt("10.0.1.0/24", 3, 100), rt("10.0.1.0/24", 4, 300)},
			ip:       "10.0.1.5",
			wantLink: 3, wantPrefix: "10.0.1.0/24", wantMetric: 100,
		},
		{
			name:     "equal routes: lowest link index",
			routes:   []netlink.Route{rt("10.0.1.0/24", 5, 0), rt("10.0.1.0/24", 4, 0)},
			ip:       "10.0.1.5",
			wantLink: 4, wantPrefix: "10.0.1.0/24",
		},
		{
			name: "blackhole, unreachable, prohibit, throw ignored",
			routes: []netlink.Route{
				rt("10.0.1.0/24", 2, 100),
				rt("10.0.1.0/25", 0, 0, typ(unix.RTN_BLACKHOLE), scope(netlink.SCOPE_UNIVERSE)),
				rt("10.0.1.0/26", 0, 0, typ(unix.RTN_UNREACHABLE), scope(netlink.SCOPE_UNIVERSE)),
				rt("10.0.1.0/27", 0, 0, typ(unix.RTN_PROHIBIT), scope(netlink.SCOPE_UNIVERSE)),
				rt("10.0.1.0/28", 0, 0, typ(unix.RTN_THROW), scope(netlink.SCOPE_UNIVERSE)),
				rt("10.0.1.0/29", 7, 0, typ(unix.RTN_BLACKHOLE)), // even with a link and scope link
			},
			ip:       "10.0.1.5",
			wantLink: 2, wantPrefix: "10.0.1.0/24", wantMetric: 100,
		},
		{
			name:    "only a blackhole",
			routes:  []netlink.Route{rt("10.0.1.0/24", 0, 0, typ(unix.RTN_BLACKHOLE))},
			ip:      "10.0.1.5",
			wantErr: ErrNoRoute,
		},
		{
			name: "local table ignored",
			routes: []netlink.Route{
				rt("10.0.1.5/32", 2, 0, typ(unix.RTN_LOCAL), table(unix.RT_TABLE_LOCAL), scope(netlink.SCOPE_HOST)),
				rt("10.0.1.5/32", 2, 0, table(unix.RT_TABLE_LOCAL)),
			},
			ip:      "10.0.1.5",
			wantErr: ErrNoRoute,
		},
		{
			name:     "other tables ignored",
			routes:   []netlink.Route{rt("10.0.1.0/24", 2, 0), rt("10.0.1.0/28", 3, 0, table(100))},
			ip:       "10.0.1.5",
			wantLink: 2, wantPrefix: "10.0.1.0/24",
		},
		{
			name:     "IPv4 gateway route (scope universe) ignored",
			routes:   []netlink.Route{rt("10.0.0.0/8", 2, 0), rt("10.0.1.0/24", 3, 0, scope(netlink.SCOPE_UNIVERSE))},
			ip:       "10.0.1.5",
			wantLink: 2, wantPrefix: "10.0.0.0/8",
		},
		{
			name:    "default route ignored",
			routes:  []netlink.Route{{LinkIndex: 2, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST, Scope: netlink.SCOPE_LINK}, rt("0.0.0.0/0", 2, 0)},
			ip:      "10.0.1.5",
			wantErr: ErrNoRoute,
		},
		{
			name:    "no match",
			routes:  []netlink.Route{rt("10.0.1.0/24", 2, 0)},
			ip:      "10.0.2.5",
			wantErr: ErrNoRoute,
		},
		{
			name:    "no routes",
			ip:      "10.0.2.5",
			wantErr: ErrNoRoute,
		},
		{
			name:     "linkdown kept when alone",
			routes:   []netlink.Route{rt("10.0.1.0/24", 2, 0, flags(unix.RTNH_F_LINKDOWN))},
			ip:       "10.0.1.5",
			wantLink: 2, wantPrefix: "10.0.1.0/24", wantDown: true,
		},
		{
			name:     "route with carrier beats linkdown with lower metric",
			routes:   []netlink.Route{rt("10.0.1.0/24", 2, 10, flags(unix.RTNH_F_LINKDOWN)), rt("10.0.1.0/24", 3, 100)},
			ip:       "10.0.1.5",
			wantLink: 3, wantPrefix: "10.0.1.0/24", wantMetric: 100,
		},
		{
			name:     "linkdown with longer prefix still wins",
			routes:   []netlink.Route{rt("10.0.1.0/25", 2, 0, flags(unix.RTNH_F_LINKDOWN)), rt("10.0.1.0/24", 3, 0)},
			ip:       "10.0.1.5",
			wantLink: 2, wantPrefix: "10.0.1.0/25", wantDown: true,
		},
		{
			name:    "dead route ignored",
			routes:  []netlink.Route{rt("10.0.1.0/24", 2, 0, flags(unix.RTNH_F_DEAD|unix.RTNH_F_LINKDOWN))},
			ip:      "10.0.1.5",
			wantErr: ErrNoRoute,
		},
		{
			name: "multipath ignored",
			routes: []netlink.Route{rt("10.0.1.0/24", 0, 0, func(r *netlink.Route) {
				r.MultiPath = []*netlink.NexthopInfo{{LinkIndex: 2}, {LinkIndex: 3}}
			})},
			ip:      "10.0.1.5",
			wantErr: ErrNoRoute,
		},
		{
			name:     "IPv6 any scope, longest prefix",
			routes:   []netlink.Route{rt("2001:db8::/32", 2, 1024), rt("2001:db8:1::/64", 3, 256), rt("fe80::/64", 3, 256)},
			ip:       "2001:db8:1::5",
			wantLink: 3, wantPrefix: "2001:db8:1::/64", wantMetric: 256,
		},
		{
			name:     "IPv6 any spelling",
			routes:   []netlink.Route{rt("2001:db8:1::/64", 3, 256)},
			ip:       "2001:0DB8:0001:0000:0000:0000:0000:0005",
			wantLink: 3, wantPrefix: "2001:db8:1::/64", wantMetric: 256,
		},
		{
			name:     "IPv6 RA route loses to kernel route by metric",
			routes:   []netlink.Route{rt("2001:db8:1::/64", 3, 1024), rt("2001:db8:1::/64", 2, 256)},
			ip:       "2001:db8:1::5",
			wantLink: 2, wantPrefix: "2001:db8:1::/64", wantMetric: 256,
		},
		{
			name:    "IPv6 default and unreachable ignored",
			routes:  []netlink.Route{rt("::/0", 2, 1024), rt("2001:db8::/32", 0, 0, typ(unix.RTN_UNREACHABLE))},
			ip:      "2001:db8:1::5",
			wantErr: ErrNoRoute,
		},
		{
			name:    "family mismatch",
			routes:  []netlink.Route{rt("2001:db8::/32", 2, 0), rt("10.0.0.0/8", 2, 0)},
			ip:      "::ffff:192.0.2.1",
			wantErr: ErrNoRoute,
		},
		{
			name:     "IPv4-mapped address treated as IPv4",
			routes:   []netlink.Route{rt("192.0.2.0/24", 2, 0)},
			ip:       "::ffff:192.0.2.1",
			wantLink: 2, wantPrefix: "192.0.2.0/24",
		},
		{
			name:     "host bits in destination are masked",
			routes:   []netlink.Route{rt("192.0.2.7/24", 2, 0)},
			ip:       "192.0.2.1",
			wantLink: 2, wantPrefix: "192.0.2.0/24",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BestRoute(tt.routes, netip.MustParseAddr(tt.ip))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("BestRoute = %+v, %v; want error %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("BestRoute: %v", err)
			}
			want := Route{
				LinkIndex: tt.wantLink,
				Prefix:    netip.MustParsePrefix(tt.wantPrefix),
				Metric:    tt.wantMetric,
				LinkDown:  tt.wantDown,
			}
			if tt.wantSrc != "" {
				want.Src = netip.MustParseAddr(tt.wantSrc)
			}
			if got != want {
				t.Errorf("BestRoute = %+v, want %+v", got, want)
			}
		})
	}
}

func TestBestRouteInvalidIP(t *testing.T) {
	if _, err := BestRoute(nil, netip.Addr{}); err == nil || errors.Is(err, ErrNoRoute) {
		t.Errorf("BestRoute(invalid) = %v, want a non-ErrNoRoute error", err)
	}
}
