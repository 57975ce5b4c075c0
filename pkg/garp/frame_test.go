package garp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/mdlayher/arp"
)

var (
	testMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}
	testV4  = netip.MustParseAddr("192.0.2.10")
	testV6  = netip.MustParseAddr("2001:db8::10")
	testLL  = netip.MustParseAddr("fe80::1")
)

// hexFrame turns a spaced hex dump into bytes.
func hexFrame(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestARPFrames(t *testing.T) {
	const pad = "000000000000000000000000000000000000" // 18 bytes to 60
	tests := []struct {
		name  string
		build func() ([]byte, error)
		want  string
	}{
		{
			name:  "gratuitous request",
			build: func() ([]byte, error) { return requestFrame(testMAC, testV4) },
			want: "ffffffffffff 02005e102030 0806" + // Ethernet: broadcast, ours, ARP
				" 0001 0800 06 04 0001" + // Ethernet/IPv4, request
				" 02005e102030 c000020a" + // sender: ours, VIP
				" 000000000000 c000020a" + // target: zero MAC, VIP
				pad,
		},
		{
			name:  "gratuitous reply",
			build: func() ([]byte, error) { return replyFrame(testMAC, testV4) },
			want: "ffffffffffff 02005e102030 0806" +
				" 0001 0800 06 04 0002" + // reply
				" 02005e102030 c000020a" +
				" 02005e102030 c000020a" + // target MAC = sender MAC
				pad,
		},
		{
			name:  "RFC 5227 probe",
			build: func() ([]byte, error) { return probeFrame(testMAC, testV4) },
			want: "ffffffffffff 02005e102030 0806" +
				" 0001 0800 06 04 0001" +
				" 02005e102030 00000000" + // sender IP 0.0.0.0
				" 000000000000 c000020a" +
				pad,
		},
		{
			name:  "resolve request",
			build: func() ([]byte, error) { return resolveFrame(testMAC, netip.MustParseAddr("192.0.2.1"), testV4) },
			want: "ffffffffffff 02005e102030 0806" +
				" 0001 0800 06 04 0001" +
				" 02005e102030 c0000201" +
				" 000000000000 c000020a" +
				pad,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if want := hexFrame(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("frame\n got %x\nwant %x", got, want)
			}
			if len(got) != 60 {
				t.Errorf("frame length %d, want 60", len(got))
			}
			if _, ok := parseARP(got); !ok {
				t.Errorf("parseARP rejects the frame")
			}
		})
	}
	if _, err := requestFrame(net.HardwareAddr{1, 2, 3}, testV4); err == nil {
		t.Errorf("requestFrame accepted a 3-byte MAC")
	}
}

// checksumOK verifies the ICMPv6 checksum of an IPv6 packet independently
// of icmpv6Checksum: the ones'-complement sum over pseudo header and message
// must be 0xffff.
func checksumOK(ip []byte) bool {
	plen := int(binary.BigEndian.Uint16(ip[4:6]))
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(ip[8:40]) // source, destination
	add([]byte{0, 0, byte(plen >> 8), byte(plen), 0, 0, 0, protoICMPv6})
	add(ip[40 : 40+plen])
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

func TestNDPFrames(t *testing.T) {
	tests := []struct {
		name    string
		build   func() ([]byte, error)
		ethDst  string
		src     netip.Addr
		dst     string
		icmp    string // type, code, checksum skipped, rest
		wantLen int
	}{
		{
			name:   "unsolicited NA from the VIP",
			build:  func() ([]byte, error) { return naFrame(testMAC, testV6, testV6) },
			ethDst: "333300000001", src: testV6, dst: "ff02::1",
			icmp: "88 00 ---- 20000000 20010db8000000000000000000000010" + // NA, Override only, target
				" 02 01 02005e102030", // target link-layer address option
			wantLen: 14 + 40 + 32,
		},
		{
			name:   "unsolicited NA from link-local",
			build:  func() ([]byte, error) { return naFrame(testMAC, testLL, testV6) },
			ethDst: "333300000001", src: testLL, dst: "ff02::1",
			icmp:    "88 00 ---- 20000000 20010db8000000000000000000000010 02 01 02005e102030",
			wantLen: 14 + 40 + 32,
		},
		{
			name:   "DAD probe",
			build:  func() ([]byte, error) { return nsFrame(testMAC, unspecified, testV6) },
			ethDst: "3333ff000010", src: unspecified, dst: "ff02::1:ff00:10",
			icmp:    "87 00 ---- 00000000 20010db8000000000000000000000010", // no options from ::
			wantLen: 14 + 40 + 24,
		},
		{
			name:   "resolve solicitation",
			build:  func() ([]byte, error) { return nsFrame(testMAC, testLL, testV6) },
			ethDst: "3333ff000010", src: testLL, dst: "ff02::1:ff00:10",
			icmp:    "87 00 ---- 00000000 20010db8000000000000000000000010 01 01 02005e102030", // source LLA
			wantLen: 14 + 40 + 32,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			if len(f) != tt.wantLen {
				t.Errorf("length %d, want %d", len(f), tt.wantLen)
			}
			if got := hex.EncodeToString(f[0:14]); got != tt.ethDst+"02005e10203086dd" {
				t.Errorf("Ethernet header %s", got)
			}
			ip := f[14:]
			if ip[0] != 0x60 || ip[1] != 0 || ip[2] != 0 || ip[3] != 0 {
				t.Errorf("IPv6 version/class/flow %x", ip[0:4])
			}
			if int(binary.BigEndian.Uint16(ip[4:6])) != len(ip)-40 || ip[6] != 58 || ip[7] != 255 {
				t.Errorf("payload length %d, next header %d, hop limit %d", binary.BigEndian.Uint16(ip[4:6]), ip[6], ip[7])
			}
			if netip.AddrFrom16([16]byte(ip[8:24])) != tt.src || netip.AddrFrom16([16]byte(ip[24:40])) != netip.MustParseAddr(tt.dst) {
				t.Errorf("addresses %x → %x", ip[8:24], ip[24:40])
			}
			icmp := hex.EncodeToString(ip[40:])
			want := strings.Join(strings.Fields(tt.icmp), "")
			want = want[:4] + icmp[4:8] + want[8:] // checksum checked below
			if icmp != want {
				t.Errorf("ICMPv6\n got %s\nwant %s", icmp, want)
			}
			if !checksumOK(ip) {
				t.Errorf("bad ICMPv6 checksum")
			}
			p, ok := parseNDP(f)
			if !ok || !bytes.Equal(p.ethSrc, testMAC) || p.src != tt.src {
				t.Errorf("parseNDP = %+v, %v", p, ok)
			}
		})
	}
}

func TestParseNDPRejects(t *testing.T) {
	good, err := naFrame(testMAC, testV6, testV6)
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func([]byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	tests := []struct {
		name  string
		frame []byte
	}{
		{"short", good[:50]},
		{"not IPv6", mod(func(b []byte) { b[12], b[13] = 0x08, 0x00 })},
		{"hop limit 64", mod(func(b []byte) { b[14+7] = 64 })},
		{"not ICMPv6", mod(func(b []byte) { b[14+6] = 17 })},
		{"payload length beyond frame", mod(func(b []byte) { b[14+4] = 0xff })},
		{"not ND", mod(func(b []byte) { b[14+40] = 128 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, ok := parseNDP(tt.frame); ok {
				t.Errorf("parseNDP accepted: %+v", p)
			}
		})
	}
	p, ok := parseNDP(good)
	m := p.msg
	if !ok || m.typ != icmpTypeNA || !m.override || m.solicited || m.router || m.target != testV6 ||
		!bytes.Equal(m.targetLLA, testMAC) || m.sourceLLA != nil {
		t.Errorf("parseNDP(NA) = %+v, %v", p, ok)
	}
}

func TestParseARP(t *testing.T) {
	f, _ := replyFrame(testMAC, testV4)
	p, ok := parseARP(f)
	if !ok || p.Operation != arp.OperationReply || p.SenderIP != testV4 || p.TargetIP != testV4 ||
		!bytes.Equal(p.SenderHardwareAddr, testMAC) || !bytes.Equal(p.TargetHardwareAddr, testMAC) {
		t.Errorf("parseARP = %+v, %v", p, ok)
	}
	na, _ := naFrame(testMAC, testV6, testV6)
	if _, ok := parseARP(na); ok {
		t.Errorf("parseARP accepted an IPv6 frame")
	}
	if _, ok := parseARP(f[:20]); ok {
		t.Errorf("parseARP accepted a truncated frame")
	}
}

func TestMulticastMAC(t *testing.T) {
	tests := []struct{ ip, mac string }{
		{"ff02::1", "33:33:00:00:00:01"},
		{"ff02::1:ff00:10", "33:33:ff:00:00:10"},
		{"ff02::1:ffab:cdef", "33:33:ff:ab:cd:ef"},
	}
	for _, tt := range tests {
		if got := multicastMAC(netip.MustParseAddr(tt.ip)).String(); got != tt.mac {
			t.Errorf("multicastMAC(%s) = %s, want %s", tt.ip, got, tt.mac)
		}
	}
}

func BenchmarkBuildARPRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := requestFrame(testMAC, testV4); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildARPReply(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := replyFrame(testMAC, testV4); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildNeighborAdvertisement(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := naFrame(testMAC, testV6, testV6); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildNeighborSolicitation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nsFrame(testMAC, unspecified, testV6); err != nil {
			b.Fatal(err)
		}
	}
}
