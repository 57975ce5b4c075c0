package netif

import (
	"net/netip"
	"testing"
)

func TestBroadcastOf(t *testing.T) {
	tests := []struct {
		prefix, want string
	}{
		{"192.0.2.10/24", "192.0.2.255"},
		{"192.0.2.10/25", "192.0.2.127"},
		{"192.0.2.130/25", "192.0.2.255"},
		{"10.1.2.3/8", "10.255.255.255"},
		{"10.1.2.3/12", "10.15.255.255"},
		{"192.0.2.9/30", "192.0.2.11"},
		{"0.0.0.0/0", "255.255.255.255"},
		{"192.0.2.10/31", ""},
		{"192.0.2.10/32", ""},
		{"2001:db8::1/64", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			got := BroadcastOf(netip.MustParsePrefix(tt.prefix))
			var want netip.Addr
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Errorf("BroadcastOf(%s) = %v, want %v", tt.prefix, got, want)
			}
		})
	}
}

func TestAddrLabel(t *testing.T) {
	tests := []struct {
		link, label, want string
		ok                bool
	}{
		{"eth0", "", "", true},
		{"eth0", "vip", "eth0:vip", true},
		{"eth0", "0123456789", "eth0:0123456789", true},
		{"eth0", "01234567890", "", false},
		{"enp0s31f6", "web", "enp0s31f6:web", true},
		{"enp0s31f6", "web01", "enp0s31f6:web01", true},
		{"enp0s31f6", "web012", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.link+":"+tt.label, func(t *testing.T) {
			got, err := AddrLabel(tt.link, tt.label)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("AddrLabel(%q, %q) = %q, %v; want %q, ok=%v", tt.link, tt.label, got, err, tt.want, tt.ok)
			}
		})
	}
}
