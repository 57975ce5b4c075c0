// Package garp announces and probes IP addresses on an Ethernet link:
// gratuitous ARP (IPv4) and unsolicited Neighbor Advertisements (IPv6) after
// a VIP moves, RFC 5227 ARP probes and DAD-style Neighbor Solicitations to
// find another owner of an address, and single-address resolution for link
// health checks.
//
// Everything goes through AF_PACKET sockets (mdlayher/packet) with frames
// built here (mdlayher/arp, mdlayher/ethernet, and a small Neighbor
// Discovery codec of its own, nd.go, which keeps x/net/icmp and its
// crypto/rand out of the agents), so nothing needs an address on the
// interface first: not the VIP (arp.Dial would), not a non-tentative IPv6
// source (an ICMPv6 socket bound to a tentative VIP fails), not even a
// source at all (probes use 0.0.0.0 and ::). Raw sockets need CAP_NET_RAW;
// without it the errors wrap os.ErrPermission.
//
// The frames follow IPaddr2's send_arp and send_ua:
//
//   - ARP request: Ethernet broadcast from the interface MAC, sender IP =
//     target IP = VIP, target MAC 00:00:00:00:00:00.
//   - ARP reply: the same with target MAC = sender MAC, which Linux's
//     arp_is_garp demands before it overrides an entry younger than
//     locktime (a reply with target ff:ff:ff:ff:ff:ff is ignored then).
//   - Neighbor Advertisement: to ff02::1 (33:33:00:00:00:01), hop limit
//     255, Override set, Solicited clear, target link-layer address option,
//     from the VIP unless it is tentative, else from a link-local address.
//
// Sending never fails silently at this level, but the kernel may drop
// frames silently: on a link that is up without carrier, and for a moment
// just after link-up until the qdisc runs. Wait for oper-up and send several
// rounds (Announce). An admin-down link gives "network is down" (ENETDOWN).
package garp
