package garp

import "testing"

// The receive path: every ARP or ND frame a duplicate-address probe sees is
// parsed (parseARP, parseNDP) before it is matched.

func BenchmarkParseARP(b *testing.B) {
	f, err := replyFrame(testMAC, testV4)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseARP(f); !ok {
			b.Fatal("not parsed")
		}
	}
}

func BenchmarkParseNDP(b *testing.B) {
	f, err := naFrame(testMAC, testV6, testV6)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseNDP(f); !ok {
			b.Fatal("not parsed")
		}
	}
}
