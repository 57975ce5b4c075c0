//go:build linux && vmtest

package vm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(modeEnv); mode != "" {
		flag.Parse()
		os.Exit(helper(mode, flag.Args()))
	}
	os.Exit(m.Run())
}

// helper plays a payload for TestRunner and returns its exit code.
func helper(mode string, args []string) int {
	switch mode {
	case "fail":
		fmt.Println("failing on purpose")
		return 1
	case "exit3": // 3 only if arguments and environment arrived intact
		if !reflect.DeepEqual(args, helperArgs) {
			fmt.Printf("args %q, want %q\n", args, helperArgs)
			return 1
		}
		if v := os.Getenv("HANET_VMTEST_VALUE"); v != helperValue {
			fmt.Printf("HANET_VMTEST_VALUE %q, want %q\n", v, helperValue)
			return 1
		}
		return 3
	case "hang": // until the runner's timeout
		time.Sleep(time.Hour)
		return 0
	}
	fmt.Printf("%s=%q: unknown mode\n", modeEnv, mode)
	return 2
}

// skipUnlessGuest skips t outside the qemu guest of tests/vm/run.
func skipUnlessGuest(t *testing.T) {
	t.Helper()
	if os.Getenv("HANET_IN_VM") != "1" {
		t.Skip("needs the bonding driver: run through tests/vm/run")
	}
}

// TestGuestBond builds an active-backup bond over two veth pairs whose peers sit on a bridge
// in a second namespace, pings across, takes the active slave's peer down and pings again.
func TestGuestBond(t *testing.T) {
	skipUnlessGuest(t)

	// The real iproute2 must come first in PATH, not busybox's ip.
	ip, err := exec.LookPath("ip")
	if err != nil || ip != "/sbin/ip" {
		t.Fatalf("LookPath(ip) = %q, %v; want /sbin/ip", ip, err)
	}
	if out, err := exec.Command("ip", "-V").CombinedOutput(); err != nil || !bytes.Contains(out, []byte("iproute2")) {
		t.Fatalf("ip -V: %v: %s", err, out)
	}

	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	peer := newNS(t)
	ph, err := netlink.NewHandleAt(peer, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer ph.Close()

	// Peer side: p0 and p1 on bridge br0 holding 10.99.0.2.
	br := &netlink.Bridge{LinkAttrs: netlink.NewLinkAttrs()}
	br.Name = "br0"
	must(t, ph.LinkAdd(br))
	must(t, ph.AddrAdd(br, mustAddr(t, "10.99.0.2/24")))

	// Our side: bond0 over a0 and a1.
	bond := netlink.NewLinkBond(netlink.NewLinkAttrs())
	bond.Name = "bond0"
	bond.Mode = netlink.BOND_MODE_ACTIVE_BACKUP
	bond.Miimon = 100
	must(t, h.LinkAdd(bond))
	t.Cleanup(func() { _ = h.LinkDel(bond) })
	for i := range 2 {
		veth := netlink.NewVeth(netlink.NewLinkAttrs())
		veth.Name = fmt.Sprintf("a%d", i)
		veth.PeerName = fmt.Sprintf("p%d", i)
		veth.PeerNamespace = netlink.NsFd(peer)
		must(t, h.LinkAdd(veth))
		t.Cleanup(func() { _ = h.LinkDel(veth) })
		must(t, h.LinkSetDown(veth))
		must(t, h.LinkSetMaster(veth, bond))
		p, err := ph.LinkByName(veth.PeerName)
		must(t, err)
		must(t, ph.LinkSetMaster(p, br))
		must(t, ph.LinkSetUp(p))
	}
	must(t, ph.LinkSetUp(br))
	must(t, h.AddrAdd(bond, mustAddr(t, "10.99.0.1/24")))
	must(t, h.LinkSetUp(bond))

	// The kernel took the options: read them back.
	l, err := h.LinkByName("bond0")
	must(t, err)
	if got, ok := l.(*netlink.Bond); !ok || got.Mode != netlink.BOND_MODE_ACTIVE_BACKUP || got.Miimon != 100 {
		t.Fatalf("bond0 = %+v, want active-backup with miimon 100", l)
	}
	waitFor(t, "bond0 up", func() bool {
		l, err := h.LinkByName("bond0")
		return err == nil && l.Attrs().OperState == netlink.OperUp
	})
	ping(t, "10.99.0.2")

	// Failover: the active slave loses its peer, the other one takes over.
	active := readSys(t, "/sys/class/net/bond0/bonding/active_slave")
	p, err := ph.LinkByName("p" + strings.TrimPrefix(active, "a"))
	must(t, err)
	must(t, ph.LinkSetDown(p))
	waitFor(t, "failover from "+active, func() bool {
		s := readSys(t, "/sys/class/net/bond0/bonding/active_slave")
		return s != "" && s != active
	})
	ping(t, "10.99.0.2")
	if out, err := exec.Command("ip", "-d", "link", "show", "bond0").CombinedOutput(); err != nil ||
		!bytes.Contains(out, []byte("bond mode active-backup")) {
		t.Errorf("ip -d link show bond0: %v:\n%s", err, out)
	}
}

// newNS returns a new network namespace, closed at the end of the test, without moving the
// calling goroutine into it.
func newNS(t *testing.T) netns.NsHandle {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.New()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	if err := netns.Set(orig); err != nil {
		t.Fatal(err) // leaves the thread locked: it ends with the goroutine
	}
	runtime.UnlockOSThread()
	t.Cleanup(func() { ns.Close() })
	return ns
}

// ping sends pings from the guest's namespace until one is answered, for up to 5 s.
func ping(t *testing.T, addr string) {
	t.Helper()
	out, err := exec.Command("ping", "-c", "1", "-W", "5", addr).CombinedOutput()
	if err != nil {
		t.Fatalf("ping %s: %v\n%s", addr, err, out)
	}
}

// waitFor polls cond every 10 ms for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func readSys(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return strings.TrimSpace(string(b))
}

func mustAddr(t *testing.T, s string) *netlink.Addr {
	t.Helper()
	a, err := netlink.ParseAddr(s)
	must(t, err)
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
