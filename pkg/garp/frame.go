package garp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

const (
	etherTypeARP  = 0x0806
	etherTypeIPv6 = 0x86dd

	ethHeaderLen  = 14
	ipv6HeaderLen = 40
	protoICMPv6   = 58
	hopLimitND    = 255 // RFC 4861: every ND message, sent and accepted
)

var (
	zeroMAC     = net.HardwareAddr{0, 0, 0, 0, 0, 0}
	allNodes    = netip.MustParseAddr("ff02::1")
	unspecified = netip.IPv6Unspecified()
	ipv4Zero    = netip.IPv4Unspecified()
)

// errNotEthernet is returned for interfaces without a 6-byte MAC (lo, tun,
// InfiniBand).
var errNotEthernet = errors.New("not an Ethernet interface")

// arpFrame builds an Ethernet frame to ethDst carrying an ARP packet; the
// frame is padded to the 60-byte minimum.
func arpFrame(op arp.Operation, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr, ethDst net.HardwareAddr) ([]byte, error) {
	p, err := arp.NewPacket(op, sha, spa, tha, tpa)
	if err != nil {
		return nil, fmt.Errorf("build ARP packet: %w", err)
	}
	pb, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("build ARP packet: %w", err)
	}
	f := ethernet.Frame{Destination: ethDst, Source: sha, EtherType: ethernet.EtherTypeARP, Payload: pb}
	return f.MarshalBinary()
}

// requestFrame is the gratuitous ARP request: broadcast, sender IP = target
// IP = ip, target MAC zero.
func requestFrame(hw net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	return arpFrame(arp.OperationRequest, hw, ip, zeroMAC, ip, ethernet.Broadcast)
}

// replyFrame is the gratuitous ARP reply: broadcast, sender IP = target IP =
// ip, target MAC = sender MAC.
func replyFrame(hw net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	return arpFrame(arp.OperationReply, hw, ip, hw, ip, ethernet.Broadcast)
}

// probeFrame is the RFC 5227 ARP probe: broadcast request, sender IP
// 0.0.0.0, target MAC zero, target IP ip.
func probeFrame(hw net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	return arpFrame(arp.OperationRequest, hw, ipv4Zero, zeroMAC, ip, ethernet.Broadcast)
}

// resolveFrame is an ordinary broadcast ARP request from src for target.
func resolveFrame(hw net.HardwareAddr, src, target netip.Addr) ([]byte, error) {
	return arpFrame(arp.OperationRequest, hw, src, zeroMAC, target, ethernet.Broadcast)
}

// multicastMAC maps an IPv6 multicast address to its Ethernet address,
// 33:33 and the address's last 32 bits (RFC 2464).
func multicastMAC(ip netip.Addr) net.HardwareAddr {
	a := ip.As16()
	return net.HardwareAddr{0x33, 0x33, a[12], a[13], a[14], a[15]}
}

// ndpFrame builds Ethernet, IPv6 (hop limit 255) and ICMPv6 headers around
// the ND message m, with the ICMPv6 checksum computed.
func ndpFrame(hw, ethDst net.HardwareAddr, src, dst netip.Addr, m *ndMessage) ([]byte, error) {
	name := "neighbor solicitation"
	if m.typ == icmpTypeNA {
		name = "neighbor advertisement"
	}
	switch {
	case len(hw) != 6:
		return nil, fmt.Errorf("build %s: invalid MAC %q", name, hw)
	case !isIPv6(src) || !isIPv6(dst) || !isIPv6(m.target):
		return nil, fmt.Errorf("build %s: invalid IPv6 address among %s, %s, %s", name, src, dst, m.target)
	}
	b := make([]byte, ethHeaderLen+ipv6HeaderLen, ethHeaderLen+ipv6HeaderLen+ndLen+2*llaOptLen)
	copy(b[0:6], ethDst)
	copy(b[6:12], hw)
	binary.BigEndian.PutUint16(b[12:14], etherTypeIPv6)
	b = marshalND(b, m)
	ip := b[ethHeaderLen:]
	icmp := ip[ipv6HeaderLen:]
	ip[0] = 6 << 4 // version 6, traffic class 0, flow label 0
	binary.BigEndian.PutUint16(ip[4:6], uint16(len(icmp)))
	ip[6] = protoICMPv6
	ip[7] = hopLimitND
	s, d := src.As16(), dst.As16()
	copy(ip[8:24], s[:])
	copy(ip[24:40], d[:])
	binary.BigEndian.PutUint16(icmp[2:4], icmpv6Checksum(src, dst, icmp))
	return b, nil
}

// isIPv6 reports whether ip is an IPv6 address and not IPv4-mapped.
func isIPv6(ip netip.Addr) bool { return ip.Is6() && !ip.Is4In6() }

// naFrame is the unsolicited Neighbor Advertisement for target, from src to
// all nodes: Override set, Solicited and Router clear, target link-layer
// address option hw.
func naFrame(hw net.HardwareAddr, src, target netip.Addr) ([]byte, error) {
	na := &ndMessage{typ: icmpTypeNA, override: true, target: target, targetLLA: hw}
	return ndpFrame(hw, multicastMAC(allNodes), src, allNodes, na)
}

// nsFrame is a Neighbor Solicitation for target to its solicited-node
// multicast group. From the unspecified address (a DAD probe) it carries no
// source link-layer address option, as RFC 4861 requires; otherwise it
// carries hw.
func nsFrame(hw net.HardwareAddr, src, target netip.Addr) ([]byte, error) {
	snm := solicitedNodeMulticast(target)
	ns := &ndMessage{typ: icmpTypeNS, target: target}
	if src != unspecified {
		ns.sourceLLA = hw
	}
	return ndpFrame(hw, multicastMAC(snm), src, snm, ns)
}

// parseARP decodes an ARP frame; ok is false for anything else.
func parseARP(b []byte) (*arp.Packet, bool) {
	var f ethernet.Frame
	if err := f.UnmarshalBinary(b); err != nil || f.EtherType != ethernet.EtherTypeARP {
		return nil, false
	}
	p := new(arp.Packet)
	if err := p.UnmarshalBinary(f.Payload); err != nil || p.HardwareAddrLength != 6 || p.IPLength != 4 {
		return nil, false
	}
	return p, true
}

// ndpPacket is a decoded ND frame.
type ndpPacket struct {
	ethSrc   net.HardwareAddr
	src, dst netip.Addr
	msg      ndMessage
}

// parseNDP decodes an Ethernet/IPv6/ICMPv6 ND frame without extension
// headers and with hop limit 255; ok is false for anything else.
func parseNDP(b []byte) (ndpPacket, bool) {
	if len(b) < ethHeaderLen+ipv6HeaderLen+4 || binary.BigEndian.Uint16(b[12:14]) != etherTypeIPv6 {
		return ndpPacket{}, false
	}
	ip := b[ethHeaderLen:]
	if ip[0]>>4 != 6 || ip[6] != protoICMPv6 || ip[7] != hopLimitND {
		return ndpPacket{}, false
	}
	plen := int(binary.BigEndian.Uint16(ip[4:6]))
	if ipv6HeaderLen+plen > len(ip) {
		return ndpPacket{}, false
	}
	m, ok := parseND(ip[ipv6HeaderLen : ipv6HeaderLen+plen])
	if !ok {
		return ndpPacket{}, false
	}
	return ndpPacket{
		ethSrc: net.HardwareAddr(b[6:12]),
		src:    netip.AddrFrom16([16]byte(ip[8:24])),
		dst:    netip.AddrFrom16([16]byte(ip[24:40])),
		msg:    m,
	}, true
}
