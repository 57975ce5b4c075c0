package garp

import (
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestNASource(t *testing.T) {
	addr := func(s string, flags int) netlink.Addr {
		return netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(s), Mask: net.CIDRMask(64, 128)}, Flags: flags}
	}
	vip := netip.MustParseAddr("2001:db8::10")
	tests := []struct {
		name  string
		addrs []netlink.Addr
		want  string
	}{
		{"VIP usable", []netlink.Addr{addr("fe80::1", 0), addr("2001:db8::10", unix.IFA_F_NODAD)}, "2001:db8::10"},
		{"VIP tentative", []netlink.Addr{addr("2001:db8::10", unix.IFA_F_TENTATIVE), addr("fe80::1", 0)}, "fe80::1"},
		{"VIP dadfailed", []netlink.Addr{addr("2001:db8::10", unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED), addr("fe80::1", 0)}, "fe80::1"},
		{"VIP absent", []netlink.Addr{addr("2001:db8::1", 0), addr("fe80::1", 0)}, "fe80::1"},
		{"link-local tentative too", []netlink.Addr{addr("2001:db8::10", unix.IFA_F_TENTATIVE), addr("fe80::1", unix.IFA_F_TENTATIVE)}, "2001:db8::10"},
		{"nothing", nil, "2001:db8::10"},
		{"first usable link-local", []netlink.Addr{addr("fe80::1", unix.IFA_F_TENTATIVE), addr("fe80::2", 0), addr("fe80::3", 0)}, "fe80::2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := naSource(tt.addrs, vip); got != netip.MustParseAddr(tt.want) {
				t.Errorf("naSource = %s, want %s", got, tt.want)
			}
		})
	}
}
