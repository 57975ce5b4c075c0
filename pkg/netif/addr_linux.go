package netif

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// infinityLifetime is INFINITY_LIFE_TIME, "forever" in IFA_CACHEINFO.
const infinityLifetime = 0xffffffff

// FindAddr finds the link that has address ip configured, by scanning every
// address of ip's family and comparing canonical forms (any IPv6 spelling;
// an IPv4-mapped IPv6 address counts as IPv4). If ip has a zone (an
// interface name or index, e.g. fe80::1%eth0), only that link matches; an
// unzoned link-local address configured on several links matches the first
// in kernel order. Absent, the error wraps ErrAddrNotFound.
//
// Use FindAddr, not a route lookup, to learn where a VIP lives: a route
// lookup for a local address answers lo. Equivalent to:
// ip -o addr show to $ip.
func (h *Handle) FindAddr(ip netip.Addr) (netlink.Link, *netlink.Addr, error) {
	if !ip.IsValid() {
		return nil, nil, errors.New("find address: invalid IP address")
	}
	zone := ip.Zone()
	ip = ip.WithZone("").Unmap()
	family := netlink.FAMILY_V6
	if ip.Is4() {
		family = netlink.FAMILY_V4
	}
	addrs, err := h.Addrs(nil, family)
	if err != nil {
		return nil, nil, fmt.Errorf("find address %s: %w", ip, err)
	}
	for i := range addrs {
		a := &addrs[i]
		got, ok := netip.AddrFromSlice(a.IP)
		if !ok || got.Unmap() != ip {
			continue
		}
		link, err := h.LinkByIndex(a.LinkIndex)
		if errors.Is(err, ErrLinkNotFound) {
			continue // deleted since the dump
		}
		if err != nil {
			return nil, nil, fmt.Errorf("find address %s: %w", ip, err)
		}
		if zone != "" && zone != link.Attrs().Name && zone != strconv.Itoa(link.Attrs().Index) {
			continue
		}
		return link, a, nil
	}
	if zone != "" {
		return nil, nil, fmt.Errorf("find address %s on %s: %w", ip, zone, ErrAddrNotFound)
	}
	return nil, nil, fmt.Errorf("find address %s: %w", ip, ErrAddrNotFound)
}

// FindAddrOn finds ip among the addresses of link only (any IPv6 spelling,
// IPv4-mapped or not); absent, the error wraps ErrAddrNotFound. A nil link
// means every link, as FindAddr. Equivalent to: ip addr show dev $link to $ip
func (h *Handle) FindAddrOn(link netlink.Link, ip netip.Addr) (netlink.Link, *netlink.Addr, error) {
	if link == nil {
		return h.FindAddr(ip)
	}
	ip = ip.WithZone("").Unmap()
	family := netlink.FAMILY_V6
	if ip.Is4() {
		family = netlink.FAMILY_V4
	}
	addrs, err := h.Addrs(link, family)
	if err != nil {
		return nil, nil, fmt.Errorf("find address %s on %s: %w", ip, link.Attrs().Name, err)
	}
	for i := range addrs {
		if got, ok := netip.AddrFromSlice(addrs[i].IP); ok && got.Unmap() == ip {
			return link, &addrs[i], nil
		}
	}
	return nil, nil, fmt.Errorf("find address %s on %s: %w", ip, link.Attrs().Name, ErrAddrNotFound)
}

// AddrReplace configures address prefix (address and prefix length, e.g.
// 192.0.2.10/24) on link with opts, adding it or updating an existing one,
// then re-reads the link's addresses and fails unless the address is there
// with that prefix length and label. The kernel does not change the label or
// broadcast of an existing address on replace: a label mismatch is reported
// as an error, to be fixed by AddrDel and AddrReplace. Equivalent to:
// ip addr replace $prefix [broadcast $brd] [label $link:$label]
// [preferred_lft $lft] [nodad] [noprefixroute] dev $link.
func (h *Handle) AddrReplace(link netlink.Link, prefix netip.Prefix, opts AddrOpts) error {
	name := link.Attrs().Name
	a, err := toNetlinkAddr(name, prefix, opts)
	if err != nil {
		return fmt.Errorf("add %s to %s: %w", prefix, name, err)
	}
	if err := h.nl.AddrReplace(link, a); err != nil {
		return fmt.Errorf("add %s to %s: %w", prefix, name, err)
	}

	family := netlink.FAMILY_V6
	if prefix.Addr().Is4() {
		family = netlink.FAMILY_V4
	}
	addrs, err := h.Addrs(link, family)
	if err != nil {
		return fmt.Errorf("verify %s on %s: %w", prefix, name, err)
	}
	for _, got := range addrs {
		if !got.IP.Equal(a.IP) {
			continue
		}
		if ones, _ := got.Mask.Size(); ones != prefix.Bits() {
			continue
		}
		if got.Label != a.Label && (a.Label != "" || got.Label != name) {
			return fmt.Errorf("verify %s on %s: label is %q, want %q", prefix, name, got.Label, a.Label)
		}
		return nil
	}
	return fmt.Errorf("verify %s on %s: absent after adding: %w", prefix, name, ErrAddrNotFound)
}

// toNetlinkAddr builds the netlink address AddrReplace sends.
func toNetlinkAddr(link string, prefix netip.Prefix, opts AddrOpts) (*netlink.Addr, error) {
	ip := prefix.Addr()
	switch {
	case !prefix.IsValid():
		return nil, errors.New("invalid prefix")
	case ip.Is4In6():
		return nil, errors.New("IPv4-mapped IPv6 address: use the IPv4 form")
	case ip.Zone() != "":
		return nil, errors.New("address has a zone")
	}
	a := &netlink.Addr{IPNet: &net.IPNet{
		IP:   ip.AsSlice(),
		Mask: net.CIDRMask(prefix.Bits(), ip.BitLen()),
	}}
	if ip.Is4() {
		label, err := AddrLabel(link, opts.Label)
		if err != nil {
			return nil, err
		}
		a.Label = label
		brd := opts.Broadcast
		if !brd.IsValid() {
			brd = BroadcastOf(prefix)
		} else if !brd.Is4() {
			return nil, fmt.Errorf("broadcast %s: not IPv4", brd)
		}
		if brd.IsValid() {
			a.Broadcast = brd.AsSlice()
		} else {
			a.Broadcast = net.IPv4zero.To4() // none: stop netlink computing one
		}
	} else {
		if opts.Label != "" {
			return nil, fmt.Errorf("label %q: IPv6 addresses have no labels", opts.Label)
		}
		if opts.Broadcast.IsValid() {
			return nil, fmt.Errorf("broadcast %s: IPv6 has no broadcast", opts.Broadcast)
		}
		if opts.NoDAD {
			a.Flags |= unix.IFA_F_NODAD
		}
	}
	if ip.IsLoopback() {
		a.Scope = unix.RT_SCOPE_HOST // the kernel refuses 127/8 and ::1 with scope global
	}
	if opts.NoPrefixRoute {
		a.Flags |= unix.IFA_F_NOPREFIXROUTE
	}
	if opts.PreferredLft != nil {
		d := *opts.PreferredLft
		if d < 0 {
			return nil, fmt.Errorf("preferred lifetime %v: negative", d)
		}
		secs := min(d/time.Second, infinityLifetime)
		a.PreferedLft = int(secs)
		a.ValidLft = infinityLifetime
	}
	return a, nil
}

// AddrDel removes address prefix from link; the prefix length must be the
// configured one (FindAddr tells it). An address not configured gives an
// error wrapping ErrAddrNotFound. Equivalent to: ip addr del $prefix dev $link.
func (h *Handle) AddrDel(link netlink.Link, prefix netip.Prefix) error {
	name := link.Attrs().Name
	if !prefix.IsValid() {
		return fmt.Errorf("delete %s from %s: invalid prefix", prefix, name)
	}
	ip := prefix.Addr().Unmap().WithZone("")
	a := &netlink.Addr{IPNet: &net.IPNet{
		IP:   ip.AsSlice(),
		Mask: net.CIDRMask(prefix.Bits(), ip.BitLen()),
	}}
	if ip.Is4() {
		a.Broadcast = net.IPv4zero.To4()
	}
	if err := h.nl.AddrDel(link, a); err != nil {
		if errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("delete %s from %s: %w (%w)", prefix, name, ErrAddrNotFound, err)
		}
		return fmt.Errorf("delete %s from %s: %w", prefix, name, err)
	}
	return nil
}
