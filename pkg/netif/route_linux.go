package netif

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoRoute is wrapped by the errors of BestRoute and RouteFor when no
// route qualifies.
var ErrNoRoute = errors.New("no matching route")

// A Route is the route findif chose for an address: the link and prefix a
// VIP is configured with.
type Route struct {
	// LinkIndex is the index of the route's output link.
	LinkIndex int
	// Link is that link; RouteFor fills it, BestRoute leaves it nil.
	Link netlink.Link
	// Prefix is the route's destination (host bits zero).
	Prefix netip.Prefix
	// Src is the route's preferred source address, if any.
	Src netip.Addr
	// Metric is the route's priority; lower wins.
	Metric int
	// LinkDown is set when the kernel flags the route "linkdown": its link
	// is up but without carrier.
	LinkDown bool
}

// BestRoute chooses, among routes, the one IPaddr2's findif would use for ip,
// with the fixes of resource-agents HEAD:
//
//   - only routes whose destination prefix contains ip, of ip's family, in the
//     main table (a zero Table counts as main), so the local table's route
//     for a configured address never matches;
//   - only unicast routes: unreachable, blackhole, prohibit, throw, local,
//     broadcast and multicast routes are ignored, and so are default routes
//     (prefix length 0), multipath routes (no single link) and dead ones;
//   - IPv4: only scope link routes, as ip route list match $ip scope link;
//     IPv6: any scope;
//   - routes on links without carrier ("linkdown") are kept (an interface
//     that is down when the agent starts still qualifies, IPaddr2 #2188) but
//     lose to a route on a link with carrier with the same prefix length.
//
// The longest prefix wins, then a route that is not linkdown, then the lowest
// metric, then the lowest link index, so the choice is deterministic. No
// qualifying route gives ErrNoRoute.
func BestRoute(routes []netlink.Route, ip netip.Addr) (Route, error) {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return Route{}, errors.New("invalid IP address")
	}
	var cands []Route
	for _, r := range routes {
		c, ok := candidate(r, ip)
		if ok {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return Route{}, ErrNoRoute
	}
	return slices.MinFunc(cands, func(a, b Route) int {
		if c := cmp.Compare(b.Prefix.Bits(), a.Prefix.Bits()); c != 0 {
			return c
		}
		if a.LinkDown != b.LinkDown {
			if a.LinkDown {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(a.Metric, b.Metric); c != 0 {
			return c
		}
		return cmp.Compare(a.LinkIndex, b.LinkIndex)
	}), nil
}

// candidate converts r and reports whether it qualifies for ip.
func candidate(r netlink.Route, ip netip.Addr) (Route, bool) {
	if r.Dst == nil || r.LinkIndex <= 0 || len(r.MultiPath) > 0 {
		return Route{}, false
	}
	if r.Table != unix.RT_TABLE_MAIN && r.Table != unix.RT_TABLE_UNSPEC {
		return Route{}, false
	}
	if r.Type != unix.RTN_UNICAST || r.Flags&unix.RTNH_F_DEAD != 0 {
		return Route{}, false
	}
	if ip.Is4() && r.Scope != netlink.SCOPE_LINK {
		return Route{}, false
	}
	dst, ok := netip.AddrFromSlice(r.Dst.IP)
	if !ok {
		return Route{}, false
	}
	dst = dst.Unmap()
	ones, bits := r.Dst.Mask.Size()
	if ones == 0 || bits != dst.BitLen() || dst.Is4() != ip.Is4() {
		return Route{}, false
	}
	prefix := netip.PrefixFrom(dst, ones).Masked()
	if !prefix.Contains(ip) {
		return Route{}, false
	}
	src, _ := netip.AddrFromSlice(r.Src)
	return Route{
		LinkIndex: r.LinkIndex,
		Prefix:    prefix,
		Src:       src.Unmap(),
		Metric:    r.Priority,
		LinkDown:  r.Flags&unix.RTNH_F_LINKDOWN != 0,
	}, true
}

// RouteFor finds the link and prefix for ip the way IPaddr2's findif does:
// it lists the main table's routes of ip's family (only those on link dev
// when dev is not empty) and chooses with BestRoute, whose doc gives the
// rules. No qualifying route gives an error wrapping ErrNoRoute; an absent
// dev one wrapping ErrLinkNotFound. Equivalent to:
// ip -o -f inet route list match $ip scope link [dev $dev] (inet6: no scope).
func (h *Handle) RouteFor(ip netip.Addr, dev string) (Route, error) {
	ip = ip.WithZone("").Unmap()
	family := netlink.FAMILY_V6
	if ip.Is4() {
		family = netlink.FAMILY_V4
	}
	var (
		filter *netlink.Route
		mask   uint64
		on     string
	)
	if dev != "" {
		link, err := h.LinkByName(dev)
		if err != nil {
			return Route{}, fmt.Errorf("find route for %s: %w", ip, err)
		}
		filter, mask = &netlink.Route{LinkIndex: link.Attrs().Index}, netlink.RT_FILTER_OIF
		on = " on " + dev
	}
	routes, err := h.Routes(family, filter, mask)
	if err != nil {
		return Route{}, fmt.Errorf("find route for %s%s: %w", ip, on, err)
	}
	r, err := BestRoute(routes, ip)
	if err != nil {
		return Route{}, fmt.Errorf("find route for %s%s: %w", ip, on, err)
	}
	if r.Link, err = h.LinkByIndex(r.LinkIndex); err != nil {
		return Route{}, fmt.Errorf("find route for %s%s: %w", ip, on, err)
	}
	return r, nil
}
