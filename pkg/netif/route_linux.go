package netif

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

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
