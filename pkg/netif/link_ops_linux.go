package netif

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
)

// SetUp sets link administratively up. Equivalent to: ip link set $link up
func (h *Handle) SetUp(link netlink.Link) error {
	if err := h.nl.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", link.Attrs().Name, err)
	}
	return nil
}

// FlushRouteCache flushes the kernel's route cache (IPv4 next-hop
// exceptions, IPv6 cloned routes) for ip's family in the caller's network
// namespace. Equivalent to: ip route flush cache (or ip -6 route flush cache)
func FlushRouteCache(ip netip.Addr) error {
	path := "/proc/sys/net/ipv4/route/flush"
	if ip.Is6() {
		path = "/proc/sys/net/ipv6/route/flush"
	}
	if err := os.WriteFile(path, []byte("1\n"), 0); err != nil {
		return fmt.Errorf("flush route cache: %w", err)
	}
	return nil
}
