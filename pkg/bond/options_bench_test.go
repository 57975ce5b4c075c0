package bond

import (
	"net/netip"
	"testing"
)

// benchWant is a full active-backup ARP-monitor configuration.
func benchWant() *Options {
	o := Defaults(ActiveBackup)
	o.ARPInterval, o.Miimon = Ptr(100), Ptr(0)
	o.ARPIPTargets = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}
	o.ARPValidate = Ptr(ValidateAll)
	o.Primary = Ptr("eth1")
	o.NumPeerNotif = Ptr(3)
	return o
}

// BenchmarkDiff is what monitor at OCF_CHECK_LEVEL 10 and reload-agent do:
// compare every option of the live bond with the configuration.
func BenchmarkDiff(b *testing.B) {
	live, want := Defaults(ActiveBackup), benchWant()
	b.ReportAllocs()
	for b.Loop() {
		if len(Diff(live, want)) == 0 {
			b.Fatal("no difference")
		}
	}
}

// BenchmarkChanges turns a Diff into the options reload-agent sends.
func BenchmarkChanges(b *testing.B) {
	live, want := Defaults(ActiveBackup), benchWant()
	changes := Diff(live, want)
	b.ReportAllocs()
	for b.Loop() {
		Changes(live, want, changes)
	}
}

// BenchmarkOptionsString is the log line start writes.
func BenchmarkOptionsString(b *testing.B) {
	o := benchWant()
	b.ReportAllocs()
	for b.Loop() {
		_ = o.String()
	}
}

func BenchmarkParseMode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMode("802.3ad"); err != nil {
			b.Fatal(err)
		}
	}
}
