package netif

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func dur(d time.Duration) *time.Duration { return &d }

func TestToNetlinkAddr(t *testing.T) {
	tests := []struct {
		name      string
		prefix    string
		opts      AddrOpts
		wantErr   bool
		wantIP    string
		wantBits  int
		wantBrd   string
		wantLabel string
		wantFlags int
		wantPref  int
		wantValid int
	}{
		{name: "v4 computed broadcast", prefix: "192.0.2.10/24", wantIP: "192.0.2.10", wantBits: 24, wantBrd: "192.0.2.255"},
		{name: "v4 explicit broadcast", prefix: "192.0.2.10/24", opts: AddrOpts{Broadcast: netip.MustParseAddr("192.0.2.0")}, wantIP: "192.0.2.10", wantBits: 24, wantBrd: "192.0.2.0"},
		{name: "v4 /32 no broadcast", prefix: "192.0.2.10/32", wantIP: "192.0.2.10", wantBits: 32, wantBrd: "0.0.0.0"},
		{name: "v4 /31 no broadcast", prefix: "192.0.2.10/31", wantIP: "192.0.2.10", wantBits: 31, wantBrd: "0.0.0.0"},
		{name: "v4 label", prefix: "192.0.2.10/24", opts: AddrOpts{Label: "vip"}, wantIP: "192.0.2.10", wantBits: 24, wantBrd: "192.0.2.255", wantLabel: "eth0:vip"},
		{name: "v4 label too long", prefix: "192.0.2.10/24", opts: AddrOpts{Label: "verylonglabel"}, wantErr: true},
		{name: "v4 IPv6 broadcast", prefix: "192.0.2.10/24", opts: AddrOpts{Broadcast: netip.MustParseAddr("::1")}, wantErr: true},
		{name: "v4 nodad ignored", prefix: "192.0.2.10/24", opts: AddrOpts{NoDAD: true}, wantIP: "192.0.2.10", wantBits: 24, wantBrd: "192.0.2.255"},
		{name: "v4 noprefixroute", prefix: "192.0.2.10/24", opts: AddrOpts{NoPrefixRoute: true}, wantIP: "192.0.2.10", wantBits: 24, wantBrd: "192.0.2.255", wantFlags: unix.IFA_F_NOPREFIXROUTE},
		{name: "v6 nodad noprefixroute", prefix: "2001:db8::1/64", opts: AddrOpts{NoDAD: true, NoPrefixRoute: true}, wantIP: "2001:db8::1", wantBits: 64, wantFlags: unix.IFA_F_NODAD | unix.IFA_F_NOPREFIXROUTE},
		{name: "v6 preferred_lft 0", prefix: "2001:db8::1/64", opts: AddrOpts{PreferredLft: dur(0)}, wantIP: "2001:db8::1", wantBits: 64, wantPref: 0, wantValid: infinityLifetime},
		{name: "v6 preferred_lft 90.5s", prefix: "2001:db8::1/64", opts: AddrOpts{PreferredLft: dur(90500 * time.Millisecond)}, wantIP: "2001:db8::1", wantBits: 64, wantPref: 90, wantValid: infinityLifetime},
		{name: "v6 preferred_lft huge", prefix: "2001:db8::1/64", opts: AddrOpts{PreferredLft: dur(1 << 62)}, wantIP: "2001:db8::1", wantBits: 64, wantPref: infinityLifetime, wantValid: infinityLifetime},
		{name: "negative preferred_lft", prefix: "2001:db8::1/64", opts: AddrOpts{PreferredLft: dur(-time.Second)}, wantErr: true},
		{name: "v6 label", prefix: "2001:db8::1/64", opts: AddrOpts{Label: "vip"}, wantErr: true},
		{name: "v6 broadcast", prefix: "2001:db8::1/64", opts: AddrOpts{Broadcast: netip.MustParseAddr("192.0.2.255")}, wantErr: true},
		{name: "mapped", prefix: "::ffff:192.0.2.10/120", wantErr: true},
		{name: "invalid", prefix: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p netip.Prefix
			if tt.prefix != "" {
				p = netip.MustParsePrefix(tt.prefix)
			}
			a, err := toNetlinkAddr("eth0", p, tt.opts)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("toNetlinkAddr = %+v, want error", a)
				}
				return
			}
			if err != nil {
				t.Fatalf("toNetlinkAddr: %v", err)
			}
			if !a.IP.Equal(net.ParseIP(tt.wantIP)) {
				t.Errorf("IP = %v, want %v", a.IP, tt.wantIP)
			}
			if ones, _ := a.Mask.Size(); ones != tt.wantBits {
				t.Errorf("prefix length = %d, want %d", ones, tt.wantBits)
			}
			if tt.wantBrd == "" && a.Broadcast != nil || tt.wantBrd != "" && !a.Broadcast.Equal(net.ParseIP(tt.wantBrd)) {
				t.Errorf("broadcast = %v, want %q", a.Broadcast, tt.wantBrd)
			}
			if a.Label != tt.wantLabel || a.Flags != tt.wantFlags || a.PreferedLft != tt.wantPref || a.ValidLft != tt.wantValid {
				t.Errorf("label, flags, preferred, valid = %q, %#x, %d, %d; want %q, %#x, %d, %d",
					a.Label, a.Flags, a.PreferedLft, a.ValidLft, tt.wantLabel, tt.wantFlags, tt.wantPref, tt.wantValid)
			}
		})
	}
}

func TestIsUp(t *testing.T) {
	link := func(flags net.Flags, raw uint32, st netlink.LinkOperState) netlink.Link {
		return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "x", Flags: flags, RawFlags: raw, OperState: st}}
	}
	const lowerUp = unix.IFF_LOWER_UP
	tests := []struct {
		name        string
		link        netlink.Link
		up, carrier bool
	}{
		{"up", link(net.FlagUp, unix.IFF_UP|lowerUp, netlink.OperUp), true, true},
		{"admin down", link(0, 0, netlink.OperDown), false, false},
		{"admin down but oper up (stale)", link(0, lowerUp, netlink.OperUp), false, true},
		{"no carrier", link(net.FlagUp, unix.IFF_UP, netlink.OperDown), false, false},
		{"unknown with carrier (lo)", link(net.FlagUp, unix.IFF_UP|lowerUp, netlink.OperUnknown), true, true},
		{"unknown without carrier", link(net.FlagUp, unix.IFF_UP, netlink.OperUnknown), false, false},
		{"dormant", link(net.FlagUp, unix.IFF_UP|lowerUp, netlink.OperDormant), false, true},
		{"lowerlayerdown", link(net.FlagUp, unix.IFF_UP, netlink.OperLowerLayerDown), false, false},
		{"testing", link(net.FlagUp, unix.IFF_UP|lowerUp, netlink.OperTesting), false, true},
		{"notpresent", link(net.FlagUp, unix.IFF_UP, netlink.OperNotPresent), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUp(tt.link); got != tt.up {
				t.Errorf("IsUp = %v, want %v", got, tt.up)
			}
			if got := HasCarrier(tt.link); got != tt.carrier {
				t.Errorf("HasCarrier = %v, want %v", got, tt.carrier)
			}
		})
	}
}
