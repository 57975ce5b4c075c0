package vip

import (
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/pkg/testutil"
)

// TestMonitorNotRunning: a recurring monitor says 7 when the peer goes
// down (carrier loss), when the address is removed behind the agent's back,
// or moved to another prefix; 0 again once the link is back.
func TestMonitorNotRunning(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := []string{"ip=" + vip4, "arp_count=0"}
	mon := append(p, recurring)
	w.must(0, "start", p...)
	w.must(0, "monitor", mon...)

	testutil.SetDown(t, w.peer, peerNIC)
	testutil.WaitOperState(t, w.ns, nic, netlink.OperDown, 2*time.Second)
	w.must(7, "monitor", mon...)
	w.must(7, "monitor", append(p, probe)...)
	w.must(0, "monitor", append(mon, "check_link_status=false")...)
	testutil.SetUp(t, w.peer, peerNIC)
	testutil.WaitOperUp(t, w.ns, nic, 2*time.Second)
	w.must(0, "monitor", mon...)

	testutil.DelAddr(t, w.ns, nic, vip4+"/24")
	w.must(7, "monitor", mon...)
	w.must(0, "start", p...)
	w.has(vip4, nic, 24)

	testutil.DelAddr(t, w.ns, nic, vip4+"/24")
	testutil.AddAddr(t, w.ns, nic, vip4+"/25")
	w.must(7, "monitor", mon...)
	w.must(1, "start", p...) // there, but not as started: refuse
	w.must(0, "stop", p...)
	w.hasNot(vip4)
	w.must(7, "monitor", mon...)
}

// TestStopAfterNICVanished: stop succeeds when the interface is gone.
func TestStopAfterNICVanished(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := []string{"ip=" + vip4, "nic=" + nic, "arp_count=0"}
	w.must(0, "start", p...)
	if err := testutil.Handle(t, w.ns).LinkDel(testutil.Link(t, w.ns, nic)); err != nil {
		t.Fatal(err)
	}
	w.must(7, "monitor", append(p, recurring)...)
	w.must(7, "monitor", append(p, probe)...)
	w.must(0, "stop", p...)
	w.must(0, "stop", p...)
	w.must(2, "start", p...)
}

// TestNICAbsent: a nic missing on this node is 2 for start and a level-10
// validate-all, 0 for validate-all at level 0 (no look at the host), 7 for
// a probe and 0 for a stop; never 6.
func TestNICAbsent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	before := w.stableDump()
	for _, ip := range []string{vip4, vip6, "fe80::100"} {
		p := []string{"ip=" + ip, "nic=eth9"}
		w.must(0, "validate-all", p...)
		r := w.must(2, "validate-all", append(p, "OCF_CHECK_LEVEL=10")...)
		if !strings.Contains(r.reason(), "eth9 does not exist") {
			t.Errorf("validate-all: exit reason %q", r.reason())
		}
		r = w.must(2, "start", p...)
		if !strings.Contains(r.reason(), "eth9 does not exist") {
			t.Errorf("start: exit reason %q", r.reason())
		}
		w.must(7, "monitor", append(p, probe)...)
		w.must(7, "monitor", append(p, recurring)...)
		w.must(0, "stop", p...)
	}
	if after := w.dump(); after != before {
		t.Errorf("the host changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestInvalid: parameters wrong everywhere give 6 with a reason from
// start, validate-all and a probe, and 0 from stop; on a local problem 2;
// the host is left as it was.
func TestInvalid(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		params []string
		action string
		code   int
		reason string
	}{
		{[]string{}, "start", 6, "required parameter ip"},
		{[]string{"ip=banana"}, "start", 6, "not an IPv4 or IPv6 address"},
		{[]string{"ip=banana"}, "validate-all", 6, "not an IPv4 or IPv6 address"},
		{[]string{"ip=banana"}, "monitor", 6, "not an IPv4 or IPv6 address"},
		{[]string{"ip=banana"}, "stop", 0, ""},
		{[]string{"ip=" + vip4, "cidr_netmask=33"}, "start", 6, "want 1..32"},
		{[]string{"ip=" + vip4, "cidr_netmask=255.0.255.0"}, "start", 6, "not contiguous"},
		{[]string{"ip=" + vip4, "nic=lan0/x"}, "start", 6, "not allowed"},
		{[]string{"ip=" + vip4, "nic=muchtoolongname0"}, "start", 6, "at most 15"},
		{[]string{"ip=" + vip4, "arp_count=-1"}, "start", 6, "arp_count"},
		{[]string{"ip=" + vip4, "arp_interval=fast"}, "start", 6, "arp_interval"},
		{[]string{"ip=" + vip4, "arp_bg=perhaps"}, "start", 6, "arp_bg"},
		{[]string{"ip=" + vip4, "preferred_lft=-1"}, "start", 6, "preferred_lft"},
		{[]string{"ip=" + vip4, "broadcast=nope"}, "start", 6, "broadcast"},
		{[]string{"ip=fe80::10"}, "start", 6, "nic is required"},
		{[]string{"ip=" + vip4, "arp_count=-1"}, "stop", 0, ""},
		// Sound values this node cannot use: 2.
		{[]string{"ip=" + vip4, "iflabel=abcdefghijk"}, "start", 2, "iflabel"},
		{[]string{"ip=" + vip4, "iflabel=abcdefghijk", "OCF_CHECK_LEVEL=10"}, "validate-all", 2, "iflabel"},
		{[]string{"ip=" + vip4, "iflabel=abcdefghijk"}, "validate-all", 0, ""},
		// With nic given the label's length is known everywhere: 6.
		{[]string{"ip=" + vip4, "nic=" + nic, "iflabel=abcdefghijk"}, "start", 6, "longer than 15 bytes"},
	}
	before := w.stableDump()
	for _, tt := range tests {
		r := w.agent(tt.action, tt.params...)
		if r.code != tt.code {
			t.Errorf("%s %v: %v\nwant rc=%d", tt.action, tt.params, r, tt.code)
			continue
		}
		if !strings.Contains(r.reason(), tt.reason) {
			t.Errorf("%s %v: exit reason %q, want one containing %q", tt.action, tt.params, r.reason(), tt.reason)
		}
		if after := w.dump(); after != before {
			t.Fatalf("%s %v changed the host:\nbefore:\n%s\nafter:\n%s", tt.action, tt.params, before, after)
		}
	}
	if got := w.stateFiles(); len(got) != 0 {
		t.Errorf("state files: %v", got)
	}
}

// TestRunARPing: with run_arping an IPv4 address another host answers for
// is refused (1) and nothing is left behind, not even the interface state
// start changed; without another owner the start succeeds.
func TestRunARPing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := []string{"ip=" + vip4, "nic=" + nic, "cidr_netmask=24", "run_arping=true", "arp_count=1"}
	start := time.Now()
	w.must(0, "start", p...)
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("start with run_arping took %v: the probe waits about 1 s for an answer", d)
	}
	w.must(0, "stop", p...)

	testutil.AddAddr(t, w.peer, peerNIC, vip4+"/24")
	peerMAC := testutil.MAC(t, w.peer, peerNIC)
	testutil.SetDown(t, w.ns, nic) // start sets it up; a failed start sets it down again
	before := w.stableDump()
	r := w.must(1, "start", p...)
	if !strings.Contains(r.reason(), "in use by "+peerMAC.String()) {
		t.Errorf("exit reason %q, want one naming %s", r.reason(), peerMAC)
	}
	if after := w.dump(); after != before {
		t.Errorf("failed start changed the host:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if got := w.stateFiles(); len(got) != 0 {
		t.Errorf("state files after a failed start: %v", got)
	}
	// IPv6 relies on DAD instead: run_arping changes nothing there.
	testutil.SetUp(t, w.ns, nic)
	testutil.WaitOperUp(t, w.ns, nic, 2*time.Second)
	w.must(0, "start", "ip="+vip6, "nic="+nic, "cidr_netmask=64", "run_arping=true", "nodad=true", "arp_count=0")
	w.must(0, "stop", "ip="+vip6)
}

// TestDADFailed: an IPv6 address the peer already has fails duplicate
// address detection: start says 1 and leaves no address; with nodad the
// check is skipped.
func TestDADFailed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.fastDAD()
	testutil.AddAddr(t, w.peer, peerNIC, vip6+"/64")
	p := []string{"ip=" + vip6, "nic=" + nic, "cidr_netmask=64"}
	before := w.stableDump()
	r := w.must(1, "start", p...)
	if !strings.Contains(r.reason(), "failed duplicate address detection") {
		t.Errorf("exit reason %q", r.reason())
	}
	w.hasNot(vip6)
	if after := w.dump(); after != before {
		t.Errorf("failed start changed the host:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	w.must(7, "monitor", append(p, recurring)...)
	w.must(0, "stop", p...)

	// With nodad the address is taken; a level-10 monitor finds the other
	// owner.
	w.must(0, "start", append(p, "nodad=true", "arp_count=0")...)
	w.must(0, "monitor", append(p, recurring)...)
	w.must(1, "monitor", append(p, recurring, "OCF_CHECK_LEVEL=10")...)
	w.must(0, "stop", p...)

	// An address that failed DAD behind the agent's back: monitor says 1,
	// start fails and removes it.
	h := testutil.Handle(t, w.ns)
	a := &netlink.Addr{IPNet: prefixNet(netip.MustParsePrefix(vip6 + "/64"))}
	if err := h.AddrAdd(testutil.Link(t, w.ns, nic), a); err != nil {
		t.Fatal(err)
	}
	if !waitFor(3*time.Second, func() bool {
		got, ok := find(t, w.ns, vip6)
		return ok && got.flags&unix.IFA_F_DADFAILED != 0
	}) {
		t.Fatalf("%s did not fail DAD", vip6)
	}
	r = w.must(1, "monitor", append(p, recurring)...)
	if !strings.Contains(r.reason(), "failed duplicate address detection") {
		t.Errorf("monitor: exit reason %q", r.reason())
	}
	w.must(1, "start", p...)
	w.hasNot(vip6)
}

// TestCheckLevel10: a monitor at OCF_CHECK_LEVEL 10 fails (1) when another
// host answers for the address, and passes otherwise.
func TestCheckLevel10(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := []string{"ip=" + vip4, "arp_count=0"}
	w.must(0, "start", p...)
	w.must(0, "monitor", append(p, recurring, "OCF_CHECK_LEVEL=10")...)
	testutil.AddAddr(t, w.peer, peerNIC, vip4+"/24")
	peerMAC := testutil.MAC(t, w.peer, peerNIC)
	r := w.must(1, "monitor", append(p, recurring, "OCF_CHECK_LEVEL=10")...)
	if !strings.Contains(r.reason(), peerMAC.String()) {
		t.Errorf("exit reason %q, want one naming %s", r.reason(), peerMAC)
	}
	w.must(0, "monitor", append(p, recurring)...)                   // level 0 does not look
	w.must(0, "monitor", append(p, probe, "OCF_CHECK_LEVEL=10")...) // nor does a probe
	w.must(0, "stop", p...)
}

// TestOptions checks what the optional parameters do to the address.
func TestOptions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		params []string
		check  func(t *testing.T, a addr)
	}{
		{[]string{"ip=" + vip4, "cidr_netmask=24"}, func(t *testing.T, a addr) {
			if a.brd != netip.MustParseAddr("192.0.2.255") {
				t.Errorf("broadcast %s, want 192.0.2.255 (computed)", a.brd)
			}
		}},
		{[]string{"ip=10.7.0.5", "nic=" + nic, "cidr_netmask=255.255.255.240"}, func(t *testing.T, a addr) {
			if a.prefix != 28 || a.brd != netip.MustParseAddr("10.7.0.15") {
				t.Errorf("/%d brd %s, want /28 brd 10.7.0.15 (no other address in that subnet)", a.prefix, a.brd)
			}
		}},
		{[]string{"ip=" + vip4, "broadcast=192.0.2.127"}, func(t *testing.T, a addr) {
			if a.brd != netip.MustParseAddr("192.0.2.127") {
				t.Errorf("broadcast %s, want 192.0.2.127", a.brd)
			}
		}},
		{[]string{"ip=" + vip4, "iflabel=vip"}, func(t *testing.T, a addr) {
			if a.label != nic+":vip" {
				t.Errorf("label %q, want %s:vip", a.label, nic)
			}
		}},
		{[]string{"ip=" + vip4, "nic=" + nic + ":v1"}, func(t *testing.T, a addr) {
			if a.label != nic+":v1" {
				t.Errorf("label %q, want %s:v1", a.label, nic)
			}
		}},
		{[]string{"ip=" + vip4, "noprefixroute=true", "preferred_lft=0"}, func(t *testing.T, a addr) {
			if a.flags&unix.IFA_F_NOPREFIXROUTE == 0 || a.flags&unix.IFA_F_DEPRECATED == 0 {
				t.Errorf("flags %#x, want noprefixroute and deprecated (preferred_lft 0)", a.flags)
			}
		}},
		{[]string{"ip=" + vip6, "nodad=true", "preferred_lft=0"}, func(t *testing.T, a addr) {
			if a.flags&unix.IFA_F_NODAD == 0 || a.flags&unix.IFA_F_DEPRECATED == 0 {
				t.Errorf("flags %#x, want nodad and deprecated", a.flags)
			}
		}},
		{[]string{"ip=" + vip4, "cidr_netmask=32", "flush_routes=true"}, func(t *testing.T, a addr) {
			if a.prefix != 32 || a.brd.IsValid() && !a.brd.IsUnspecified() {
				t.Errorf("/%d brd %s, want /32 without broadcast", a.prefix, a.brd)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.params, " "), func(t *testing.T) {
			p := append([]string{"arp_count=1", "arp_interval=0"}, tt.params...)
			w.must(0, "start", p...)
			ip := strings.TrimPrefix(tt.params[0], "ip=")
			a, ok := find(t, w.ns, ip)
			if !ok {
				t.Fatalf("%s not configured", ip)
			}
			tt.check(t, a)
			w.must(0, "monitor", append(p, recurring)...)
			w.must(0, "stop", p...)
			w.hasNot(ip)
		})
	}
}

// TestReloadAgent: reload-agent applies reloadable parameters without
// touching the address.
func TestReloadAgent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := []string{"ip=" + vip4, "arp_count=1"}
	w.must(0, "start", p...)
	before := w.stableDump()
	r := w.must(0, "reload-agent", "ip="+vip4, "arp_count=3", "arp_count_refresh=1", "check_link_status=false")
	if !strings.Contains(r.stderr, "arp_count=3") {
		t.Errorf("reload-agent does not log the new values:\n%s", r.stderr)
	}
	if after := w.dump(); after != before {
		t.Errorf("reload-agent changed the host")
	}
	w.must(0, "monitor", "ip="+vip4, "arp_count=3", "arp_count_refresh=1", "arp_interval=0", recurring)
	w.must(6, "reload-agent", "ip="+vip4, "arp_count=many")
	w.must(0, "stop", p...)
}

// TestConcurrentStarts: parallel starts of one address serialise on the
// lock: all succeed, one address results.
func TestConcurrentStarts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Go(func() {
			cmd, _, stderr := w.command("start", "ip="+vip4, "arp_count=1")
			err := cmd.Run()
			if err != nil {
				codes[i] = cmd.ProcessState.ExitCode()
				t.Logf("start %d: %v\n%s", i, err, stderr)
			}
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != 0 {
			t.Errorf("start %d = %d", i, c)
		}
	}
	w.has(vip4, nic, 24)
	w.must(0, "stop", "ip="+vip4)
}

// TestNotRoot: without privileges start and stop report 4 (or nothing to
// do), never a misleading code.
func TestNotRoot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := os.Chmod(w.state, 0o777); err != nil {
		t.Fatal(err)
	}
	asNobody := func(action string, kv ...string) run {
		cmd, stdout, stderr := w.command(action, kv...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		r := run{start: time.Now()}
		err := cmd.Run()
		r.end = time.Now()
		return w.finish(r, cmd, err, stdout, stderr)
	}
	r := asNobody("start", "ip="+vip4)
	if r.code != 4 || !strings.Contains(r.reason(), "needs root") {
		t.Errorf("start as nobody: %v\nwant rc=4 naming root", r)
	}
	w.hasNot(vip4)
	w.must(0, "start", "ip="+vip4, "arp_count=0")
	if r := asNobody("monitor", "ip="+vip4, recurring); r.code != 0 {
		t.Errorf("monitor as nobody: %v", r)
	}
	if r := asNobody("stop", "ip="+vip4); r.code != 4 {
		t.Errorf("stop as nobody: %v\nwant rc=4", r)
	}
	w.must(0, "stop", "ip="+vip4)
}
