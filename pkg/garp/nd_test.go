package garp

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"github.com/mdlayher/ndp"
)

// mdlayher/ndp is the independent reference for the codec in nd.go: what
// nd.go marshals, ndp must parse to the same fields and marshal to the same
// bytes, checksum included; what ndp marshals, nd.go must parse.

// ndCase is one NS or NA with its addresses, built both ways.
type ndCase struct {
	name     string
	src, dst netip.Addr
	msg      ndMessage
}

func ndCases() []ndCase {
	other := net.HardwareAddr{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54}
	snm := solicitedNodeMulticast(testV6)
	return []ndCase{
		{"unsolicited NA", testV6, allNodes, ndMessage{typ: icmpTypeNA, override: true, target: testV6, targetLLA: testMAC}},
		{"NA from link-local", testLL, allNodes, ndMessage{typ: icmpTypeNA, override: true, target: testV6, targetLLA: testMAC}},
		{"solicited router NA", testLL, netip.MustParseAddr("fe80::ffff:ffff:ffff:ffff"),
			ndMessage{typ: icmpTypeNA, router: true, solicited: true, target: netip.MustParseAddr("fe80::1234"), targetLLA: other}},
		{"NA all flags, all ones", netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), allNodes,
			ndMessage{typ: icmpTypeNA, router: true, solicited: true, override: true,
				target: netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), targetLLA: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}},
		{"NA without option", testV6, allNodes, ndMessage{typ: icmpTypeNA, target: testV6}},
		{"DAD NS", unspecified, snm, ndMessage{typ: icmpTypeNS, target: testV6}},
		{"resolve NS", testLL, snm, ndMessage{typ: icmpTypeNS, target: testV6, sourceLLA: testMAC}},
		{"NS with both options", testV6, netip.MustParseAddr("2001:db8::20"),
			ndMessage{typ: icmpTypeNS, target: netip.MustParseAddr("2001:db8::20"), sourceLLA: testMAC, targetLLA: other}},
		{"NS zero target", unspecified, unspecified, ndMessage{typ: icmpTypeNS, target: unspecified}},
	}
}

// toNDP converts m to its mdlayher/ndp form.
func toNDP(m ndMessage) ndp.Message {
	var opts []ndp.Option
	if m.sourceLLA != nil {
		opts = append(opts, &ndp.LinkLayerAddress{Direction: ndp.Source, Addr: m.sourceLLA})
	}
	if m.targetLLA != nil {
		opts = append(opts, &ndp.LinkLayerAddress{Direction: ndp.Target, Addr: m.targetLLA})
	}
	if m.typ == icmpTypeNA {
		return &ndp.NeighborAdvertisement{Router: m.router, Solicited: m.solicited, Override: m.override, TargetAddress: m.target, Options: opts}
	}
	return &ndp.NeighborSolicitation{TargetAddress: m.target, Options: opts}
}

// ndpLLA returns the first link-layer address option of direction d.
func ndpLLA(opts []ndp.Option, d ndp.Direction) net.HardwareAddr {
	for _, o := range opts {
		if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == d {
			return lla.Addr
		}
	}
	return nil
}

// fromNDP converts an ndp NS or NA to an ndMessage; ok is false for other
// messages.
func fromNDP(m ndp.Message) (ndMessage, bool) {
	switch m := m.(type) {
	case *ndp.NeighborAdvertisement:
		return ndMessage{typ: icmpTypeNA, router: m.Router, solicited: m.Solicited, override: m.Override, target: m.TargetAddress,
			sourceLLA: ndpLLA(m.Options, ndp.Source), targetLLA: ndpLLA(m.Options, ndp.Target)}, true
	case *ndp.NeighborSolicitation:
		return ndMessage{typ: icmpTypeNS, target: m.TargetAddress,
			sourceLLA: ndpLLA(m.Options, ndp.Source), targetLLA: ndpLLA(m.Options, ndp.Target)}, true
	}
	return ndMessage{}, false
}

func equalND(a, b ndMessage) bool {
	return a.typ == b.typ && a.router == b.router && a.solicited == b.solicited && a.override == b.override &&
		a.target == b.target && bytes.Equal(a.sourceLLA, b.sourceLLA) && bytes.Equal(a.targetLLA, b.targetLLA)
}

func TestNDMatchesNDP(t *testing.T) {
	for _, tt := range ndCases() {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ndpFrame(testMAC, multicastMAC(tt.dst), tt.src, tt.dst, &tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !checksumOK(f[ethHeaderLen:]) {
				t.Errorf("bad ICMPv6 checksum")
			}
			icmp := f[ethHeaderLen+ipv6HeaderLen:]

			// ndp parses ours to the same fields.
			nm, err := ndp.ParseMessage(icmp)
			if err != nil {
				t.Fatalf("ndp.ParseMessage: %v", err)
			}
			if got, ok := fromNDP(nm); !ok || !equalND(got, tt.msg) {
				t.Errorf("ndp parses %x as %+v, want %+v", icmp, got, tt.msg)
			}

			// ndp marshals the same bytes, checksum included.
			want, err := ndp.MarshalMessageChecksum(toNDP(tt.msg), tt.src, tt.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(icmp, want) {
				t.Errorf("ICMPv6\n got %x\nwant %x (ndp)", icmp, want)
			}
			if got, want := icmpv6Checksum(tt.src, tt.dst, zeroChecksum(want)), binary.BigEndian.Uint16(want[2:4]); got != want {
				t.Errorf("icmpv6Checksum = %#04x, ndp %#04x", got, want)
			}

			// We parse what ndp marshals, and our own frame.
			if got, ok := parseND(want); !ok || !equalND(got, tt.msg) {
				t.Errorf("parseND(ndp's %x) = %+v, %v; want %+v", want, got, ok, tt.msg)
			}
			if p, ok := parseNDP(f); !ok || !equalND(p.msg, tt.msg) || p.src != tt.src || p.dst != tt.dst || !bytes.Equal(p.ethSrc, testMAC) {
				t.Errorf("parseNDP = %+v, %v; want %+v", p, ok, tt.msg)
			}
		})
	}
}

// zeroChecksum returns a copy of an ICMPv6 message with the checksum zeroed.
func zeroChecksum(b []byte) []byte {
	b = bytes.Clone(b)
	b[2], b[3] = 0, 0
	return b
}

// TestChecksumRandom compares icmpv6Checksum with ndp's for random
// addresses, flags, targets and MACs.
func TestChecksumRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	addr := func() netip.Addr {
		var a [16]byte
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		if a[10] == 0xff && a[11] == 0xff { // avoid IPv4-mapped, which ndp rejects
			a[10] = 0
		}
		return netip.AddrFrom16(a)
	}
	mac := func() net.HardwareAddr {
		if r.IntN(3) == 0 {
			return nil
		}
		m := make(net.HardwareAddr, 6)
		for i := range m {
			m[i] = byte(r.Uint32())
		}
		return m
	}
	for range 500 {
		m := ndMessage{typ: icmpTypeNS, target: addr(), sourceLLA: mac(), targetLLA: mac()}
		if r.IntN(2) == 0 {
			m.typ, m.router, m.solicited, m.override = icmpTypeNA, r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(2) == 0
		}
		src, dst := addr(), addr()
		want, err := ndp.MarshalMessageChecksum(toNDP(m), src, dst)
		if err != nil {
			t.Fatal(err)
		}
		got := marshalND(nil, &m)
		binary.BigEndian.PutUint16(got[2:4], icmpv6Checksum(src, dst, got))
		if !bytes.Equal(got, want) {
			t.Fatalf("%+v from %s to %s\n got %x\nwant %x (ndp)", m, src, dst, got, want)
		}
	}
}

// TestChecksumOddLength checks the padding of an odd trailing byte, which
// ND messages (multiples of 8 bytes) never need, against checksumOK.
func TestChecksumOddLength(t *testing.T) {
	for n := 4; n < 12; n++ {
		ip := make([]byte, ipv6HeaderLen+n)
		binary.BigEndian.PutUint16(ip[4:6], uint16(n))
		s, d := testLL.As16(), testV6.As16()
		copy(ip[8:24], s[:])
		copy(ip[24:40], d[:])
		for i := ipv6HeaderLen; i < len(ip); i++ {
			ip[i] = byte(0xf1 + 3*i)
		}
		ip[ipv6HeaderLen+2], ip[ipv6HeaderLen+3] = 0, 0
		binary.BigEndian.PutUint16(ip[ipv6HeaderLen+2:], icmpv6Checksum(testLL, testV6, ip[ipv6HeaderLen:]))
		if !checksumOK(ip) {
			t.Errorf("length %d: bad checksum %x", n, ip[ipv6HeaderLen:])
		}
	}
}

func TestSolicitedNodeMulticast(t *testing.T) {
	for _, s := range []string{"2001:db8::10", "fe80::1", "::", "2001:db8::abcd:ef12:3456", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		ip := netip.MustParseAddr(s)
		want, err := ndp.SolicitedNodeMulticast(ip)
		if err != nil {
			t.Fatal(err)
		}
		if got := solicitedNodeMulticast(ip); got != want {
			t.Errorf("solicitedNodeMulticast(%s) = %s, ndp %s", ip, got, want)
		}
	}
	if got := solicitedNodeMulticast(netip.MustParseAddr("2001:db8::12:3456")); got != netip.MustParseAddr("ff02::1:ff12:3456") {
		t.Errorf("solicitedNodeMulticast = %s", got)
	}
}

func TestNDFrameErrors(t *testing.T) {
	if _, err := naFrame(net.HardwareAddr{1, 2, 3}, testV6, testV6); err == nil {
		t.Errorf("naFrame accepted a 3-byte MAC")
	}
	if _, err := nsFrame(testMAC, testV6, testV4); err == nil {
		t.Errorf("nsFrame accepted an IPv4 target")
	}
	if _, err := naFrame(testMAC, netip.MustParseAddr("::ffff:192.0.2.1"), testV6); err == nil {
		t.Errorf("naFrame accepted an IPv4-mapped source")
	}
	if _, err := naFrame(testMAC, netip.Addr{}, testV6); err == nil {
		t.Errorf("naFrame accepted the zero Addr as source")
	}
}

// TestParseNDAcceptsNDP feeds parseND messages ndp marshals with options
// nd.go does not know, in various orders.
func TestParseNDAcceptsNDP(t *testing.T) {
	other := net.HardwareAddr{0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54}
	extra := []ndp.Option{
		ndp.NewMTU(1500),
		ndp.NewNonce(),
		&ndp.RawOption{Type: 200, Length: 3, Value: make([]byte, 22)},
		&ndp.PrefixInformation{PrefixLength: 64, Prefix: netip.MustParseAddr("2001:db8::")},
	}
	msgs := []struct {
		m    ndp.Message
		want ndMessage
	}{
		{
			&ndp.NeighborAdvertisement{Solicited: true, TargetAddress: testV6, Options: append(append([]ndp.Option{}, extra...),
				&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: other},
				&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: testMAC}, // the first one counts
				&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: testMAC})},
			ndMessage{typ: icmpTypeNA, solicited: true, target: testV6, targetLLA: other, sourceLLA: testMAC},
		},
		{
			&ndp.NeighborSolicitation{TargetAddress: testLL, Options: append([]ndp.Option{
				&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: other}}, extra...)},
			ndMessage{typ: icmpTypeNS, target: testLL, sourceLLA: other},
		},
		{
			&ndp.NeighborSolicitation{TargetAddress: testLL, Options: extra},
			ndMessage{typ: icmpTypeNS, target: testLL},
		},
	}
	for _, tt := range msgs {
		b, err := ndp.MarshalMessageChecksum(tt.m, testLL, allNodes)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseND(b)
		if !ok || !equalND(got, tt.want) {
			t.Errorf("parseND(%x) = %+v, %v; want %+v", b, got, ok, tt.want)
		}
		if nm, err := ndp.ParseMessage(b); err != nil {
			t.Errorf("ndp.ParseMessage: %v", err)
		} else if ref, _ := fromNDP(nm); !equalND(got, ref) {
			t.Errorf("parseND = %+v, ndp %+v", got, ref)
		}
	}
}

func TestParseNDRejects(t *testing.T) {
	ns := marshalND(nil, &ndMessage{typ: icmpTypeNS, target: testV6, sourceLLA: testMAC})
	mod := func(f func([]byte) []byte) []byte { return f(bytes.Clone(ns)) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"ICMPv6 header only", ns[:4]},
		{"short target", ns[:23]},
		{"type 134 (RA)", mod(func(b []byte) []byte { b[0] = 134; return b })},
		{"type 137 (redirect)", mod(func(b []byte) []byte { b[0] = 137; return b })},
		{"echo request", mod(func(b []byte) []byte { b[0] = 128; return b })},
		{"code 1", mod(func(b []byte) []byte { b[1] = 1; return b })},
		{"option length 0", mod(func(b []byte) []byte { b[25] = 0; return b })},
		{"option beyond message", mod(func(b []byte) []byte { b[25] = 2; return b })},
		{"truncated option", ns[:30]},
		{"lone option type byte", append(bytes.Clone(ns), 1)},
		{"length-0 option after a good one", append(bytes.Clone(ns), 2, 0, 0, 0, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, ok := parseND(tt.b); ok {
				t.Errorf("parseND(%x) accepted: %+v", tt.b, m)
			}
		})
	}
	// Link-layer address options of other than Ethernet size are skipped.
	long := append(bytes.Clone(ns[:ndLen]), 1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)
	if m, ok := parseND(long); !ok || m.sourceLLA != nil {
		t.Errorf("parseND(16-byte LLA option) = %+v, %v", m, ok)
	}
	// NS ignores the NA flag bits.
	flagged := mod(func(b []byte) []byte { b[4] = 0xe0; return b })
	if m, ok := parseND(flagged); !ok || m.router || m.solicited || m.override {
		t.Errorf("parseND(NS with flag bits) = %+v, %v", m, ok)
	}
}

// FuzzParseND checks that parseND never panics, agrees with ndp on every
// NS and NA with code 0 ndp accepts, and round-trips what it accepts.
func FuzzParseND(f *testing.F) {
	for _, tt := range ndCases() {
		f.Add(marshalND(nil, &tt.msg))
	}
	f.Add([]byte{135, 0, 0, 0})
	f.Add(append(marshalND(nil, &ndMessage{typ: icmpTypeNA, target: testV6}), 2, 0))
	f.Add(append(marshalND(nil, &ndMessage{typ: icmpTypeNA, target: testV6}), 5, 1, 0, 0, 5, 0xdc, 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := parseND(b)
		if nm, err := ndp.ParseMessage(b); err == nil && len(b) > 1 && b[1] == 0 {
			if ref, isND := fromNDP(nm); isND && (!ok || !equalND(m, ref)) {
				t.Fatalf("parseND(%x) = %+v, %v; ndp %+v", b, m, ok, ref)
			}
		}
		if !ok {
			return
		}
		if len(b) < ndLen || b[1] != 0 || (m.typ != icmpTypeNS && m.typ != icmpTypeNA) {
			t.Fatalf("parseND accepted %x", b)
		}
		again, ok := parseND(marshalND(nil, &m))
		if !ok || !equalND(again, m) {
			t.Fatalf("round trip of %+v: %+v, %v", m, again, ok)
		}
	})
}

// FuzzParseNDP checks that parseNDP never panics on arbitrary frames.
func FuzzParseNDP(f *testing.F) {
	for _, tt := range ndCases() {
		fr, err := ndpFrame(testMAC, multicastMAC(tt.dst), tt.src, tt.dst, &tt.msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, ok := parseNDP(b); ok && (len(p.ethSrc) != 6 || (p.msg.typ != icmpTypeNS && p.msg.typ != icmpTypeNA)) {
			t.Fatalf("parseNDP(%x) = %+v", b, p)
		}
	})
}
