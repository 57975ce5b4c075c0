//go:build vmtest

package bond

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/hanet/hanet/pkg/netif"
	"github.com/hanet/hanet/pkg/testutil"
)

// These tests need the real bonding driver, which the host kernel lacks:
// they run in the qemu guest of tests/vm (tests/bond/run, or
// go test -exec "$PWD/tests/vm/run" ./pkg/bond). Bonds live in the guest's
// own namespace (sysfs shows that one), their ports' peers in a namespace
// of each test.

// skipUnlessBonding skips t outside a kernel with the bonding driver.
func skipUnlessBonding(t *testing.T) {
	t.Helper()
	if os.Getenv("HANET_IN_VM") != "1" {
		if _, err := os.Stat("/sys/class/net/bonding_masters"); err != nil {
			t.Skip("needs the bonding driver: run via tests/vm/run (tests/bond/run)")
		}
	}
	testutil.SkipUnlessRoot(t)
}

// world is one test's bond lab: n veth pairs, a<i> here and p<i> in a peer
// namespace on a bridge holding 10.98.<id>.2/24.
type world struct {
	h      *Handle
	peer   netns.NsHandle
	ph     *netlink.Handle
	bond   string
	slaves []string
	peers  []string
	id     int
	here   netns.NsHandle
}

var worlds int

func newWorld(t *testing.T, n int) *world {
	t.Helper()
	skipUnlessBonding(t)
	worlds++
	w := &world{id: worlds, bond: fmt.Sprintf("m%db", worlds)}
	h, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	w.h = h
	w.peer = testutil.NewNS(t)
	w.ph = testutil.Handle(t, w.peer)
	here, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { here.Close() })
	w.here = here

	br := &netlink.Bridge{LinkAttrs: netlink.NewLinkAttrs()}
	br.Name = "br0"
	must(t, w.ph.LinkAdd(br))
	for i := range n {
		a, p := fmt.Sprintf("m%da%d", w.id, i), fmt.Sprintf("p%d", i)
		testutil.Veth(t, here, a, w.peer, p)
		t.Cleanup(func() {
			if l, err := h.LinkByName(a); err == nil {
				_ = h.Netlink().LinkDel(l)
			}
		})
		pl, err := w.ph.LinkByName(p)
		must(t, err)
		must(t, w.ph.LinkSetMaster(pl, br))
		w.slaves = append(w.slaves, a)
		w.peers = append(w.peers, p)
	}
	must(t, w.ph.LinkSetUp(br))
	testutil.AddAddr(t, w.peer, "br0", fmt.Sprintf("10.98.%d.2/24", w.id))
	t.Cleanup(func() { _ = h.Delete(w.bond) })
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) ping(t *testing.T) {
	t.Helper()
	testutil.AddAddr(t, w.here, w.bond, fmt.Sprintf("10.98.%d.1/24", w.id))
	var out []byte
	var err error
	for range 5 {
		if out, err = exec.Command("ping", "-c", "1", "-W", "1", fmt.Sprintf("10.98.%d.2", w.id)).CombinedOutput(); err == nil {
			return
		}
	}
	t.Fatalf("ping across %s: %v\n%s", w.bond, err, out)
}

func TestLifecycle(t *testing.T) {
	w := newWorld(t, 2)
	before := map[string]LinkState{}
	for _, s := range w.slaves {
		st, err := w.h.Capture(s)
		must(t, err)
		before[s] = st
	}

	o := &Options{Mode: ActiveBackup, Miimon: Ptr(100), UpDelay: Ptr(200), NumPeerNotif: Ptr(2),
		PrimaryReselect: Ptr(ReselectFailure), Primary: Ptr(w.slaves[1]), MTU: 1400}
	b, err := w.h.Create(w.bond, o)
	must(t, err)
	if b.Attrs().Flags&net.FlagUp != 0 {
		t.Errorf("new bond is up")
	}
	if _, err := w.h.Create(w.bond, o); !errors.Is(err, ErrExists) {
		t.Errorf("second Create = %v, want ErrExists", err)
	}
	for _, s := range w.slaves {
		must(t, w.h.Enslave(w.bond, s))
		must(t, w.h.Enslave(w.bond, s)) // already a port: no-op
	}
	must(t, w.h.Up(w.bond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := w.h.Wait(ctx, w.bond, func(st *Status) (bool, error) {
		return st.Carrier && len(st.Slaves) == 2 && st.Slaves[0].Up() && st.Slaves[1].Up(), nil
	})
	must(t, err)
	if d := Diff(&st.Options, o); len(d) != 0 {
		t.Errorf("live options differ from those created: %v", d)
	}
	if st.ActiveSlave != w.slaves[1] || !st.Slave(w.slaves[1]).Active || st.Slave(w.slaves[0]).Active {
		t.Errorf("active slave %q, want the primary %s; slaves %+v", st.ActiveSlave, w.slaves[1], st.Slaves)
	}
	if st.Slaves[0].Name != w.slaves[0] || st.MTU != 1400 {
		t.Errorf("status: slaves %+v, MTU %d", st.Slaves, st.MTU)
	}
	for _, s := range w.slaves {
		cur, err := w.h.Capture(s)
		must(t, err)
		if cur.MTU != 1400 || cur.Master != w.bond || cur.MAC != st.MAC.String() {
			t.Errorf("port %s: %+v, want MTU 1400, master %s, MAC %s", s, cur, w.bond, st.MAC)
		}
	}
	w.ping(t)

	// Live change: miimon keeps updelay in milliseconds; primary cleared.
	want := &Options{Mode: ActiveBackup, Miimon: Ptr(50), UpDelay: Ptr(200), Primary: Ptr(""), MinLinks: Ptr(1)}
	send, fixed := Changes(&st.Options, want, Diff(&st.Options, want))
	if len(fixed) != 0 {
		t.Fatalf("fixed %v", fixed)
	}
	must(t, w.h.Change(w.bond, send))
	st, err = w.h.Status(w.bond)
	must(t, err)
	if d := Diff(&st.Options, want); len(d) != 0 {
		t.Errorf("after Change: %v", d)
	}
	if !st.Carrier || st.Slaves[0].LinkFailures+st.Slaves[1].LinkFailures != 0 {
		t.Errorf("Change disturbed the bond: carrier %v, slaves %+v", st.Carrier, st.Slaves)
	}
	// The kernel refuses a mode write on a bond with ports.
	if err := w.h.Change(w.bond, &Options{Mode: BalanceRR, LACPRate: Ptr(LACPFast)}); err == nil {
		t.Errorf("lacp_rate in active-backup accepted")
	}

	must(t, w.h.Release(w.slaves[0]))
	must(t, w.h.Release(w.slaves[0])) // no master: no-op
	st, err = w.h.Status(w.bond)
	must(t, err)
	if len(st.Slaves) != 1 {
		t.Errorf("after Release: %+v", st.Slaves)
	}
	must(t, w.h.Delete(w.bond))
	if err := w.h.Delete(w.bond); !errors.Is(err, netif.ErrLinkNotFound) {
		t.Errorf("Delete of a deleted bond = %v, want ErrLinkNotFound", err)
	}
	for _, s := range w.slaves {
		// The kernel gives back MTU and MAC and closes the port.
		cur, err := w.h.Capture(s)
		must(t, err)
		if cur.MTU != before[s].MTU || cur.MAC != before[s].MAC || cur.Master != "" || cur.Up {
			t.Errorf("port %s after delete: %+v, before %+v", s, cur, before[s])
		}
		must(t, w.h.Restore(before[s]))
		cur, _ = w.h.Capture(s)
		if cur != before[s] {
			t.Errorf("port %s after Restore: %+v, want %+v", s, cur, before[s])
		}
	}
}

func TestEnslaveRefusesPortOfBridge(t *testing.T) {
	w := newWorld(t, 1)
	br := &netlink.Bridge{LinkAttrs: netlink.NewLinkAttrs()}
	br.Name = fmt.Sprintf("m%dbr", w.id)
	must(t, w.h.Netlink().LinkAdd(br))
	t.Cleanup(func() { _ = w.h.Netlink().LinkDel(br) })
	s, err := w.h.LinkByName(w.slaves[0])
	must(t, err)
	must(t, w.h.Netlink().LinkSetMaster(s, br))

	_, err = w.h.Create(w.bond, &Options{Mode: ActiveBackup})
	must(t, err)
	if err := w.h.Enslave(w.bond, w.slaves[0]); !errors.Is(err, ErrInUse) {
		t.Errorf("Enslave of a bridge port = %v, want ErrInUse", err)
	}
	st, _ := w.h.Capture(w.slaves[0])
	if st.Master != br.Name || !st.Up {
		t.Errorf("bridge port after a refused Enslave: %+v", st)
	}
	if err := w.h.Release(w.slaves[0]); !errors.Is(err, ErrNotBond) {
		t.Errorf("Release of a bridge port = %v, want ErrNotBond", err)
	}
	if err := w.h.Delete(br.Name); !errors.Is(err, ErrNotBond) {
		t.Errorf("Delete of a bridge = %v, want ErrNotBond", err)
	}
	if _, err := w.h.Create(br.Name, &Options{}); !errors.Is(err, ErrExists) {
		t.Errorf("Create over a bridge = %v, want ErrExists", err)
	}
	if _, err := w.h.Status(br.Name); !errors.Is(err, ErrNotBond) {
		t.Errorf("Status of a bridge = %v, want ErrNotBond", err)
	}
	if _, err := w.h.Status("m0none"); !errors.Is(err, netif.ErrLinkNotFound) {
		t.Errorf("Status of nothing = %v, want ErrLinkNotFound", err)
	}
}

// TestCreateEveryOption creates a bond per mode with the options that mode
// takes, and reads them back.
func TestCreateEveryOption(t *testing.T) {
	w := newWorld(t, 2)
	for _, o := range []*Options{
		{Mode: BalanceRR, Miimon: Ptr(100), PacketsPerSlave: Ptr(3), UseCarrier: Ptr(true), AllSlavesActive: Ptr(true)},
		{Mode: ActiveBackup, ARPInterval: Ptr(200), ARPIPTargets: nil, ARPValidate: Ptr(ValidateFilterBackup),
			ARPAllTargets: Ptr(TargetsAll), FailOverMAC: Ptr(FailOverMACActive), NumPeerNotif: Ptr(5)},
		{Mode: BalanceXOR, Miimon: Ptr(100), DownDelay: Ptr(300), XmitHashPolicy: Ptr(HashLayer34)},
		{Mode: Broadcast, Miimon: Ptr(50)},
		{Mode: LACP, Miimon: Ptr(100), LACPRate: Ptr(LACPFast), ADSelect: Ptr(ADSelectCount), MinLinks: Ptr(2),
			XmitHashPolicy: Ptr(HashEncap34)},
		{Mode: BalanceTLB, Miimon: Ptr(100), TLBDynamicLB: Ptr(false), PrimaryReselect: Ptr(ReselectBetter)},
		{Mode: BalanceALB, Miimon: Ptr(100), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x42}, MTU: 9000},
	} {
		t.Run(o.Mode.String(), func(t *testing.T) {
			if o.Mode == ActiveBackup {
				o.ARPIPTargets = nil
				t1, t2 := [4]byte{10, 98, byte(w.id), 2}, [4]byte{10, 98, byte(w.id), 3}
				o.ARPIPTargets = append(o.ARPIPTargets, netip.AddrFrom4(t1), netip.AddrFrom4(t2))
			}
			_, err := w.h.Create(w.bond, o)
			must(t, err)
			defer w.h.Delete(w.bond)
			for _, s := range w.slaves {
				must(t, w.h.Enslave(w.bond, s))
			}
			st, err := w.h.Status(w.bond)
			must(t, err)
			if d := Diff(&st.Options, o); len(d) != 0 {
				t.Errorf("%s: live options differ: %v", o, d)
			}
			if len(st.Slaves) != 2 {
				t.Errorf("slaves %+v", st.Slaves)
			}
			if (st.AD != nil) != (o.Mode == LACP) {
				t.Errorf("AD info %+v in mode %s", st.AD, o.Mode)
			}
			out, _ := exec.Command("ip", "-d", "link", "show", w.bond).CombinedOutput()
			if !strings.Contains(string(out), "bond mode "+o.Mode.String()) {
				t.Errorf("ip -d link show:\n%s", out)
			}
		})
	}
}
