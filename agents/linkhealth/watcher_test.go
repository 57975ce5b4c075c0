package linkhealth

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/pkg/netif"
)

// fakeKernel serves links and bonding sysfs from memory.
type fakeKernel struct {
	links []netlink.Link
	sysfs map[string][]string // bond → slaves file
	err   error
}

func (k *fakeKernel) LinkByName(name string) (netlink.Link, error) {
	if k.err != nil {
		return nil, k.err
	}
	for _, l := range k.links {
		if l.Attrs().Name == name {
			return l, nil
		}
	}
	return nil, fmt.Errorf("find link %q: %w", name, netif.ErrLinkNotFound)
}

func (k *fakeKernel) Links() ([]netlink.Link, error) { return k.links, k.err }

func (k *fakeKernel) BondSlaves(bond string) ([]string, error) {
	s, ok := k.sysfs[bond]
	if !ok {
		return nil, errors.New("no such file")
	}
	return s, nil
}

const upFlags = unix.IFF_UP | unix.IFF_LOWER_UP | unix.IFF_RUNNING

// dev returns a link: up with carrier when up, else admin up without
// carrier; enslaved to master (index) when not 0, with MII status mii.
func dev(name string, index int, up bool, master int, mii netlink.BondSlaveMiiStatus) netlink.Link {
	a := netlink.NewLinkAttrs()
	a.Name, a.Index, a.MasterIndex = name, index, master
	a.Flags = net.FlagUp
	a.RawFlags = unix.IFF_UP
	a.OperState = netlink.OperDown
	if up {
		a.RawFlags = upFlags
		a.Flags |= net.FlagRunning
		a.OperState = netlink.OperUp
	}
	if master != 0 {
		a.Slave = &netlink.BondSlave{MiiStatus: mii}
	}
	return &netlink.Device{LinkAttrs: a}
}

func bond(name string, index int, up bool) netlink.Link {
	d := dev(name, index, up, 0, 0).(*netlink.Device)
	return &netlink.Bond{LinkAttrs: d.LinkAttrs}
}

func TestObserve(t *testing.T) {
	k := &fakeKernel{
		links: []netlink.Link{
			dev("lo", 1, true, 0, 0),
			dev("eth0", 2, true, 10, netlink.BondLinkUp),
			dev("eth1", 3, true, 10, netlink.BondLinkUp),
			dev("eth2", 4, false, 10, netlink.BondLinkDown),
			dev("eth3", 5, true, 11, netlink.BondLinkUp),   // another bond's
			dev("eth4", 6, true, 10, netlink.BondLinkFail), // carrier, but the bond says failed
			bond("bond0", 10, true),
			bond("bond1", 11, false),
			bond("bond2", 12, true),
			dev("plain", 20, true, 0, 0),
			dev("nocarrier", 21, false, 0, 0),
		},
		sysfs: map[string][]string{
			// The driver's order; "ghost" is not here, eth3 belongs to bond1.
			"bond0": {"eth1", "ghost", "eth0", "eth3"},
			"bond2": {},
		},
	}
	tests := []struct {
		name string
		want View
	}{
		{"missing", View{}},
		{"plain", View{Exists: true, Index: 20, Up: true}},
		{"nocarrier", View{Exists: true, Index: 21}},
		{"bond0", View{Exists: true, Index: 10, Up: true, Bond: true, Slaves: []SlaveView{
			{"eth1", 3, true}, {"eth0", 2, true}, {"eth2", 4, false}, {"eth4", 6, false},
		}}},
		{"bond1", View{Exists: true, Index: 11, Bond: true, Slaves: []SlaveView{{"eth3", 5, true}}}},
		{"bond2", View{Exists: true, Index: 12, Up: true, Bond: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := observe(k, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("observe(%s) =\n %+v\nwant\n %+v", tt.name, got, tt.want)
			}
		})
	}

	// Health of the bonds as Judge sees them.
	for name, want := range map[string]string{
		"bond0": "bond up, 2/4 slaves up (eth2, eth4 down)",
		"bond1": "down or no carrier",
		"bond2": "bond without slaves",
	} {
		v, _ := observe(k, name)
		if _, _, d := Judge(v); d != want {
			t.Errorf("Judge(%s) detail %q, want %q", name, d, want)
		}
	}

	k.err = errors.New("netlink: boom")
	if _, err := observe(k, "plain"); err == nil {
		t.Error("observe with a failing kernel: no error")
	}
}

func TestWatchedLinkConcerns(t *testing.T) {
	l := &watchedLink{name: "bond0", view: View{Exists: true, Index: 10, Bond: true, Slaves: []SlaveView{{"eth0", 2, true}}}}
	tests := []struct {
		ev   netif.LinkEvent
		want bool
	}{
		{netif.LinkEvent{Name: "bond0", Index: 10}, true},
		{netif.LinkEvent{Name: "renamed", Index: 10}, true},
		{netif.LinkEvent{Name: "eth1", Index: 3, MasterIndex: 10}, true}, // new slave
		{netif.LinkEvent{Name: "eth0", Index: 2}, true},                  // released slave
		{netif.LinkEvent{Name: "eth5", Index: 7}, false},
		{netif.LinkEvent{Name: "eth5", Index: 7, MasterIndex: 11}, false},
	}
	for _, tt := range tests {
		if got := l.concerns(tt.ev); got != tt.want {
			t.Errorf("concerns(%+v) = %v, want %v", tt.ev, got, tt.want)
		}
	}
	absent := &watchedLink{name: "eth9"}
	if absent.concerns(netif.LinkEvent{Name: "x", Index: 0}) {
		t.Error("an absent link concerns an event of index 0")
	}
	if !absent.concerns(netif.LinkEvent{Name: "eth9", Index: 30}) {
		t.Error("a link appearing under the name is not noticed")
	}
}

func TestEventUp(t *testing.T) {
	tests := []struct {
		ev   netif.LinkEvent
		want bool
	}{
		{netif.LinkEvent{Flags: net.FlagUp, OperState: netlink.OperUp, Carrier: true}, true},
		{netif.LinkEvent{Flags: net.FlagUp, OperState: netlink.OperUnknown, Carrier: true}, true},
		{netif.LinkEvent{Flags: net.FlagUp, OperState: netlink.OperUp}, false}, // carrier gone, linkwatch pending
		{netif.LinkEvent{Flags: net.FlagUp, OperState: netlink.OperDown}, false},
		{netif.LinkEvent{OperState: netlink.OperUp, Carrier: true}, false}, // admin down
		{netif.LinkEvent{Flags: net.FlagUp, OperState: netlink.OperLowerLayerDown, Carrier: true}, false},
	}
	for _, tt := range tests {
		if got := eventUp(tt.ev); got != tt.want {
			t.Errorf("eventUp(%+v) = %v, want %v", tt.ev, got, tt.want)
		}
	}
}

func TestSourceFor(t *testing.T) {
	addr := func(cidr string, flags int) netlink.Addr {
		p := netip.MustParsePrefix(cidr)
		return netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}, Flags: flags}
	}
	addrs := []netlink.Addr{
		addr("198.51.100.7/24", 0),
		addr("192.0.2.7/24", 0),
		addr("192.0.2.8/24", unix.IFA_F_TENTATIVE),
		addr("fe80::7/64", 0),
		addr("2001:db8::7/64", unix.IFA_F_DADFAILED),
		addr("2001:db8:1::7/64", 0),
	}
	tests := []struct {
		target, want string
	}{
		{"192.0.2.1", "192.0.2.7"},         // same subnet wins
		{"203.0.113.1", "198.51.100.7"},    // else the first usable
		{"2001:db8:1::1", "2001:db8:1::7"}, // same prefix
		{"2001:db8::1", "2001:db8:1::7"},   // the dadfailed one is skipped; global beats link-local
		{"fe80::1", "fe80::7"},             // link-local target, link-local source
		{"2001:db8:ffff::1", "2001:db8:1::7"},
	}
	for _, tt := range tests {
		if got := sourceFor(addrs, netip.MustParseAddr(tt.target)); got.String() != tt.want {
			t.Errorf("sourceFor(%s) = %s, want %s", tt.target, got, tt.want)
		}
	}
	if got := sourceFor(addrs[3:4], netip.MustParseAddr("192.0.2.1")); got.IsValid() {
		t.Errorf("no IPv4 address: got %s, want none", got)
	}
}

func TestStatusProblems(t *testing.T) {
	st := Status{Links: []LinkReport{
		{Name: "eth0", Healthy: true, Detail: "up"},
		{Name: "eth1", Detail: "down or no carrier"},
		{Name: "bond0", Healthy: true, Partial: true, Detail: "bond up, 1/2 slaves up (eth3 down)"},
	}}
	want := "eth1: down or no carrier; bond0: bond up, 1/2 slaves up (eth3 down)"
	if got := st.Problems(); got != want {
		t.Errorf("Problems() = %q, want %q", got, want)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
