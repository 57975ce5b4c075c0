package garp

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// A minimal ICMPv6 Neighbor Discovery codec (RFC 4861 §4.3, §4.4, §4.6.1):
// just the Neighbor Solicitation and Advertisement with link-layer address
// options that Probe, Resolve and Announce need. It replaces mdlayher/ndp,
// whose x/net/icmp dependency pulls crypto/rand, idna and more into every
// agent binary; the tests keep ndp as the reference implementation.

const (
	icmpTypeNS = 135 // Neighbor Solicitation
	icmpTypeNA = 136 // Neighbor Advertisement

	optSourceLLA = 1 // source link-layer address option
	optTargetLLA = 2 // target link-layer address option

	// ndLen is the fixed part of an NS or NA: ICMPv6 type, code and
	// checksum, 4 bytes of flags/reserved, the target address.
	ndLen = 24
	// llaOptLen is an Ethernet link-layer address option: type, length
	// (in units of 8 bytes, so 1) and the 6-byte MAC.
	llaOptLen = 8

	naRouter    = 0x80
	naSolicited = 0x40
	naOverride  = 0x20
)

// ndMessage is a decoded Neighbor Solicitation or Advertisement.
type ndMessage struct {
	typ byte // icmpTypeNS or icmpTypeNA

	// NA flags; false in an NS.
	router, solicited, override bool

	target netip.Addr

	// The first Ethernet-sized (8-byte) source and target link-layer
	// address options, or nil. They alias the parsed buffer.
	sourceLLA, targetLLA net.HardwareAddr
}

// marshalND appends the ICMPv6 message for m to b, with the checksum field
// zero, and returns the result. An LLA is appended as an option when it is
// 6 bytes long; callers check the MAC length.
func marshalND(b []byte, m *ndMessage) []byte {
	var flags byte
	if m.typ == icmpTypeNA {
		if m.router {
			flags |= naRouter
		}
		if m.solicited {
			flags |= naSolicited
		}
		if m.override {
			flags |= naOverride
		}
	}
	t := m.target.As16()
	b = append(b, m.typ, 0, 0, 0, flags, 0, 0, 0)
	b = append(b, t[:]...)
	b = appendLLA(b, optSourceLLA, m.sourceLLA)
	return appendLLA(b, optTargetLLA, m.targetLLA)
}

// appendLLA appends a link-layer address option of type typ for mac to b
// when mac is an Ethernet address.
func appendLLA(b []byte, typ byte, mac net.HardwareAddr) []byte {
	if len(mac) != 6 {
		return b
	}
	b = append(b, typ, llaOptLen/8)
	return append(b, mac...)
}

// icmpv6Checksum is the ICMPv6 checksum of msg sent from src to dst: the
// ones' complement of the ones' complement sum over the IPv6 pseudo-header
// (source, destination, upper-layer length, next header 58; RFC 8200 §8.1)
// and msg, whose checksum field must be zero (RFC 4443 §2.3).
func icmpv6Checksum(src, dst netip.Addr, msg []byte) uint16 {
	s, d := src.As16(), dst.As16()
	sum := uint64(len(msg)) + protoICMPv6 // 32-bit length and next header
	for i := 0; i < 16; i += 2 {
		sum += uint64(binary.BigEndian.Uint16(s[i:])) + uint64(binary.BigEndian.Uint16(d[i:]))
	}
	for ; len(msg) >= 2; msg = msg[2:] {
		sum += uint64(binary.BigEndian.Uint16(msg))
	}
	if len(msg) == 1 {
		sum += uint64(msg[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// solicitedNodeMulticast is ip's solicited-node multicast group,
// ff02::1:ff00:0/104 with ip's low 24 bits (RFC 4291 §2.7.1).
func solicitedNodeMulticast(ip netip.Addr) netip.Addr {
	a := ip.As16()
	return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: a[13], 14: a[14], 15: a[15]})
}

// parseND decodes an ICMPv6 Neighbor Solicitation or Advertisement (b
// starts at the ICMPv6 type). It checks type, code 0 and the minimum
// length, and walks the options: each needs its 2-byte header, a length
// other than 0 (RFC 4861 §4.6: such a packet must be discarded) and must fit
// in b. Unknown options, and link-layer address options of other than
// Ethernet size, are skipped. The checksum is not verified (neither did
// mdlayher/ndp; checksum offload can leave it unset on a veth).
func parseND(b []byte) (ndMessage, bool) {
	if len(b) < ndLen || (b[0] != icmpTypeNS && b[0] != icmpTypeNA) || b[1] != 0 {
		return ndMessage{}, false
	}
	m := ndMessage{typ: b[0], target: netip.AddrFrom16([16]byte(b[8:24]))}
	if m.typ == icmpTypeNA {
		m.router = b[4]&naRouter != 0
		m.solicited = b[4]&naSolicited != 0
		m.override = b[4]&naOverride != 0
	}
	for opts := b[ndLen:]; len(opts) > 0; {
		if len(opts) < 2 {
			return ndMessage{}, false
		}
		n := int(opts[1]) * 8
		if n == 0 || n > len(opts) {
			return ndMessage{}, false
		}
		if n == llaOptLen {
			mac := net.HardwareAddr(opts[2:8:8])
			switch {
			case opts[0] == optSourceLLA && m.sourceLLA == nil:
				m.sourceLLA = mac
			case opts[0] == optTargetLLA && m.targetLLA == nil:
				m.targetLLA = mac
			}
		}
		opts = opts[n:]
	}
	return m, true
}
