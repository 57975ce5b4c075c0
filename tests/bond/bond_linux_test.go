//go:build linux && vmtest

package bondtest

import (
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	bondlink "github.com/hanet/hanet/pkg/bond"
	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/testutil"
)

// checkRestored fails t unless the bond is gone, the ports are exactly as
// before (admin state, MTU, MAC, master, ifindex) and no state file is left.
func checkRestored(t *testing.T, l *lab, a *agent, before []bondlink.LinkState) {
	t.Helper()
	if l.bondExists() {
		t.Errorf("bond %s still exists", l.bond)
	}
	if after := l.state(); !reflect.DeepEqual(after, before) {
		t.Errorf("ports not restored:\n after  %+v\n before %+v", after, before)
	}
	if f := a.stateFiles(); len(f) != 0 {
		t.Errorf("state files left: %v", f)
	}
}

// TestOCFTesterSequence runs ocf-tester's sequence of actions (resource-agents
// 4.12, docs/ocf-contract.md §3.1) against a real bond. The guest is a
// busybox image without ocf-tester, xmllint or the shell library, so the
// sequence is replayed here; the real ocf-tester and xmllint run on the host
// (TestOCFTesterHost, TestMetadataXmllint), where there is no bond to start.
func TestOCFTesterSequence(t *testing.T) {
	l := newLab(t, 2, "")
	before := l.state()
	a := newAgent(t, "name="+l.bond, "slaves="+l.slaveList())
	if out := a.expect("meta-data", ocf.Success); out != "" {
		t.Errorf("meta-data wrote to stderr: %s", out)
	}
	a.expect("validate-all", ocf.Success)
	a.monitor(ocf.ErrNotRunning)
	a.expect("monitor", ocf.ErrNotRunning, probe, "OCF_TESTER_FAIL_HAVE_BINARY=1")
	a.expect("notify", ocf.ErrUnimplemented)
	a.expect("start", ocf.Success)
	a.monitor(ocf.Success)
	a.expect("monitor", ocf.Success, probe)
	a.expect("stop", ocf.Success)
	a.monitor(ocf.ErrNotRunning)
	a.expect("start", ocf.Success)
	a.monitor(ocf.Success)
	a.expect("start", ocf.Success)
	a.monitor(ocf.Success)
	a.expect("stop", ocf.Success)
	a.monitor(ocf.ErrNotRunning)
	a.expect("stop", ocf.Success)
	a.monitor(ocf.ErrNotRunning)
	checkRestored(t, l, a, before)
}

// TestModes starts every mode, passes traffic to the peer namespace, and
// checks that stop puts the ports back exactly (one starts down with MTU
// 1400) and that a second start/stop is as clean. balance-rr, balance-xor,
// broadcast and 802.3ad face a peer bond of the same mode, the others a
// bridge (docs/labs.md B.7).
func TestModes(t *testing.T) {
	for _, tt := range []struct {
		mode, peer string
		extra      []string
	}{
		{"balance-rr", "balance-rr", nil},
		{"active-backup", "", nil},
		{"balance-xor", "balance-xor", []string{"xmit_hash_policy=layer3+4"}},
		{"broadcast", "broadcast", nil},
		{"802.3ad", "802.3ad", []string{"lacp_rate=fast"}},
		{"balance-tlb", "", nil},
		{"balance-alb", "", nil},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			l := newLab(t, 2, tt.peer)
			testutil.SetDown(t, l.here, l.slaves[1])
			k, err := l.h.LinkByName(l.slaves[1])
			must(t, err)
			must(t, l.h.LinkSetMTU(k, 1400))
			before := l.state()
			a := newAgent(t, append([]string{"name=" + l.bond, "slaves=" + l.slaveList(), "mode=" + tt.mode}, tt.extra...)...)
			for round := 1; round <= 2; round++ {
				start := time.Now()
				a.expect("start", ocf.Success)
				took := time.Since(start)
				a.monitor(ocf.Success)
				a.monitor(ocf.Success, level10)
				if got := l.sysfs("mode"); !strings.HasPrefix(got, tt.mode+" ") {
					t.Errorf("sysfs mode %q", got)
				}
				for _, s := range l.state() {
					if s.Master != l.bond || s.MTU != 1500 || !s.Up {
						t.Errorf("port while enslaved: %+v", s)
					}
				}
				l.addr()
				l.traffic()
				a.expect("stop", ocf.Success)
				checkRestored(t, l, a, before)
				t.Logf("%s round %d: start %s", tt.mode, round, took.Round(time.Millisecond))
			}
		})
	}
}

// TestActiveBackupFailover: with miimon 100, losing the active port's peer
// fails over within 300 ms (measured from the peer going down to the new
// active_slave), monitor says degraded, then healthy once the peer is back,
// and broken (1) without any port.
func TestActiveBackupFailover(t *testing.T) {
	l := newLab(t, 2, "")
	a := newAgent(t, "name="+l.bond, "slaves="+l.slaveList(), "mode=active-backup", "miimon=100")
	a.expect("start", ocf.Success)
	l.addr()
	l.ping()
	a.monitor(ocf.Success)

	var worst time.Duration
	for round := range 3 {
		s := l.stream(10 * time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		active := l.sysfs("active_slave")
		i := strings.Index(l.slaveList(), active) / len(active+" ")
		t0 := time.Now()
		l.peerLink(i, false)
		var now string
		for now = l.sysfs("active_slave"); now == active || now == ""; now = l.sysfs("active_slave") {
			if time.Since(t0) > 3*time.Second {
				t.Fatalf("no failover from %s after 3 s", active)
			}
			time.Sleep(time.Millisecond)
		}
		failover := time.Since(t0)
		time.Sleep(300 * time.Millisecond)
		sent, lost, gap := s.stop()
		t.Logf("failover %d: %s -> %s in %s; traffic: %d of %d datagrams lost, longest gap %s",
			round+1, active, now, failover.Round(time.Millisecond), lost, sent, gap.Round(time.Millisecond))
		worst = max(worst, failover)
		_, stderr := a.waitMonitor(ocf.Degraded, 2*time.Second)
		if r := reason(stderr); !strings.Contains(r, "1 of 2 slaves up") || !strings.Contains(r, active) {
			t.Errorf("degraded reason %q", r)
		}
		l.peerLink(i, true)
		d, _ := a.waitMonitor(ocf.Success, 3*time.Second)
		t.Logf("port %s back: monitor 0 after %s", active, d.Round(time.Millisecond))
	}
	if worst > 300*time.Millisecond {
		t.Errorf("worst failover %s, want < 300 ms", worst)
	}

	l.peerLink(0, false)
	l.peerLink(1, false)
	d, stderr := a.waitMonitor(ocf.ErrGeneric, 3*time.Second)
	if r := reason(stderr); !strings.Contains(r, "no carrier") {
		t.Errorf("reason without ports %q", r)
	}
	t.Logf("all peers down: monitor 1 after %s (%s)", d.Round(time.Millisecond), reason(stderr))
	l.peerLink(0, true)
	l.peerLink(1, true)
	a.waitMonitor(ocf.Success, 3*time.Second)
	a.expect("stop", ocf.Success)
}

// TestLACP: 802.3ad between our bond and a peer bond in another namespace,
// both lacp_rate fast. Start returns once the aggregate has formed with the
// partner; losing a member is degraded; so is losing the partner (LACPDUs
// dropped while the links stay up).
func TestLACP(t *testing.T) {
	l := newLab(t, 2, "802.3ad")
	a := newAgent(t, "name="+l.bond, "slaves="+l.slaveList(), "mode=802.3ad", "lacp_rate=fast", "miimon=100")
	t0 := time.Now()
	a.expect("start", ocf.Success)
	t.Logf("802.3ad start (aggregate with partner): %s", time.Since(t0).Round(time.Millisecond))
	a.monitor(ocf.Success)
	peerMAC := testutil.MAC(t, l.peer, "pb0").String()
	if got := l.sysfs("ad_partner_mac"); got != peerMAC {
		t.Errorf("ad_partner_mac %s, want the peer bond's %s", got, peerMAC)
	}
	if got := l.sysfs("ad_num_ports"); got != "2" {
		t.Errorf("ad_num_ports %s, want 2", got)
	}
	l.addr()
	l.traffic()

	t0 = time.Now()
	l.peerLink(1, false)
	d, stderr := a.waitMonitor(ocf.Degraded, 5*time.Second)
	t.Logf("member down: monitor 190 after %s (%s)", d.Round(time.Millisecond), reason(stderr))
	if r := reason(stderr); !strings.Contains(r, l.slaves[1]) {
		t.Errorf("degraded reason %q does not name %s", r, l.slaves[1])
	}
	l.peerLink(1, true)
	d, _ = a.waitMonitor(ocf.Success, 10*time.Second)
	t.Logf("member back: monitor 0 after %s (re-aggregation)", d.Round(time.Millisecond))

	// The partner falls silent: LACPDUs (0x8809) dropped at the peer's
	// egress, links up.
	for _, p := range l.peers {
		tc(t, l, "qdisc", "add", "dev", p, "clsact")
		tc(t, l, "filter", "add", "dev", p, "egress", "protocol", "0x8809", "matchall", "action", "drop")
	}
	d, stderr = a.waitMonitor(ocf.Degraded, 15*time.Second)
	t.Logf("partner silent: monitor after %s: %s", d.Round(time.Millisecond), reason(stderr))
	for _, p := range l.peers {
		tc(t, l, "qdisc", "del", "dev", p, "clsact")
	}
	a.expect("stop", ocf.Success)
}

// tc runs tc in the peer namespace.
func tc(t *testing.T, l *lab, args ...string) {
	t.Helper()
	if out, err := testutil.Exec(l.peer, "tc", args...).CombinedOutput(); err != nil {
		t.Fatalf("tc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestARPMonitor: active-backup with the ARP monitor (arp_validate all)
// notices a path failure beyond a link that stays up: all traffic through
// the active port dropped at its peer (tc clsact matchall drop, both
// directions) fails over and monitor reports the port down; without any
// path the bond loses carrier.
func TestARPMonitor(t *testing.T) {
	l := newLab(t, 2, "")
	a := newAgent(t, "name="+l.bond, "slaves="+l.slaveList(), "mode=active-backup",
		"arp_interval=100", "arp_ip_target="+l.peerIP(), "arp_validate=all")
	// No address on the bond: the probes go out from 0.0.0.0, and the
	// kernel still validates the replies.
	t0 := time.Now()
	a.expect("start", ocf.Success)
	t.Logf("ARP monitor: start (carrier from validated replies) in %s", time.Since(t0).Round(time.Millisecond))
	a.monitor(ocf.Success)

	drop := func(i int, dirs ...string) {
		tc(t, l, "qdisc", "add", "dev", l.peers[i], "clsact")
		for _, dir := range dirs {
			tc(t, l, "filter", "add", "dev", l.peers[i], dir, "matchall", "action", "drop")
		}
	}
	undrop := func(i int) { tc(t, l, "qdisc", "del", "dev", l.peers[i], "clsact") }

	active := l.sysfs("active_slave")
	i := strings.Index(l.slaveList(), active) / len(active+" ")
	t0 = time.Now()
	drop(i, "ingress", "egress")
	for l.sysfs("active_slave") == active {
		if time.Since(t0) > 5*time.Second {
			t.Fatalf("no failover from %s after 5 s", active)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("path failure behind %s (link up): failover in %s", active, time.Since(t0).Round(time.Millisecond))
	_, stderr := a.waitMonitor(ocf.Degraded, 3*time.Second)
	if r := reason(stderr); !strings.Contains(r, active+" down") {
		t.Errorf("degraded reason %q does not say %s is down", r, active)
	}
	if k := testutil.Link(t, l.here, active); k.Attrs().RawFlags&unix.IFF_LOWER_UP == 0 {
		t.Errorf("%s lost its carrier: the failure was meant to be beyond the link", active)
	}
	undrop(i)
	d, _ := a.waitMonitor(ocf.Success, 5*time.Second)
	t.Logf("path back: monitor 0 after %s", d.Round(time.Millisecond))

	t0 = time.Now()
	drop(0, "ingress", "egress")
	drop(1, "ingress", "egress")
	d, stderr = a.waitMonitor(ocf.ErrGeneric, 5*time.Second)
	t.Logf("no path at all: monitor 1 after %s (%s)", d.Round(time.Millisecond), reason(stderr))
	undrop(0)
	undrop(1)
	a.waitMonitor(ocf.Success, 5*time.Second)

	// One direction only (ingress at the peer, as a one-way path failure):
	// the kernel fails over, then validates the old port as a backup again
	// from the new active port's probes flooded back to it. The next
	// recurring monitor still reports the failure (degraded) once.
	a.monitor(ocf.Success)
	active = l.sysfs("active_slave")
	i = strings.Index(l.slaveList(), active) / len(active+" ")
	t0 = time.Now()
	drop(i, "ingress")
	for l.sysfs("active_slave") == active {
		if time.Since(t0) > 5*time.Second {
			t.Fatalf("no failover from %s after 5 s (ingress drop)", active)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("ingress drop behind %s: failover in %s", active, time.Since(t0).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	stderr = a.monitor(ocf.Degraded)
	if r := reason(stderr); !strings.Contains(r, active+" failed 1x since the last check") {
		t.Errorf("one-way failure: degraded reason %q", r)
	}
	t.Logf("ingress drop: monitor 190 (%s)", reason(stderr))
	a.monitor(ocf.Success)
	undrop(i)
	a.expect("stop", ocf.Success)
}

// TestAdopt: a bond of that name made outside the resource is left alone
// with adopt=false (probe 7, start 1, stop 0 keeps it), taken over with
// adopt=true when mode and slaves match (probe 0, stop deletes it), and
// refused when they do not.
func TestAdopt(t *testing.T) {
	l := newLab(t, 2, "")
	h, err := bondlink.Open()
	must(t, err)
	defer h.Close()
	foreign := func(mode bondlink.Mode) {
		t.Helper()
		_, err := h.Create(l.bond, &bondlink.Options{Mode: mode, Miimon: bondlink.Ptr(100)})
		must(t, err)
		for _, s := range l.slaves {
			must(t, h.Enslave(l.bond, s))
		}
		must(t, h.Up(l.bond))
		time.Sleep(50 * time.Millisecond)
	}
	foreign(bondlink.ActiveBackup)
	a := newAgent(t, "name="+l.bond, "slaves="+l.slaveList())
	a.expect("monitor", ocf.ErrNotRunning, probe)
	a.monitor(ocf.ErrNotRunning)
	stderr := a.expect("start", ocf.ErrGeneric)
	if r := reason(stderr); !strings.Contains(r, "already exists and is not managed") {
		t.Errorf("start reason %q", r)
	}
	a.expect("stop", ocf.Success)
	if !l.bondExists() {
		t.Fatalf("stop deleted a bond that is not ours")
	}

	a.set("adopt=true")
	a.expect("monitor", ocf.Success, probe)
	a.expect("start", ocf.Success)
	a.monitor(ocf.Success)
	a.expect("stop", ocf.Success)
	if l.bondExists() {
		t.Errorf("stop left the adopted bond")
	}
	for _, s := range l.state() {
		if !s.Up || s.Master != "" {
			t.Errorf("port of the adopted bond after stop: %+v, want up without master", s)
		}
	}
	if f := a.stateFiles(); len(f) != 0 {
		t.Errorf("state files left: %v", f)
	}

	// Found by a probe, never started (Pacemaker then stops it, e.g. when
	// it runs elsewhere): stop deletes it as adopted.
	foreign(bondlink.ActiveBackup)
	a.expect("monitor", ocf.Success, probe)
	a.expect("stop", ocf.Success)
	if l.bondExists() {
		t.Errorf("stop left the probed, adoptable bond")
	}

	foreign(bondlink.BalanceXOR)
	a.expect("monitor", ocf.ErrNotRunning, probe)
	stderr = a.expect("start", ocf.ErrGeneric)
	if r := reason(stderr); !strings.Contains(r, "cannot adopt") || !strings.Contains(r, "mode is balance-xor") {
		t.Errorf("start reason %q", r)
	}
	a.expect("stop", ocf.Success)
	if !l.bondExists() {
		t.Errorf("stop deleted a mismatched foreign bond")
	}
	must(t, h.Delete(l.bond))
}

// TestRollback: a start failing half-way (the second port cannot be
// enslaved: the loopback) leaves the host as it was; a bridge port is
// refused (2) before anything changes; a start killed while waiting for
// carrier is finished by stop.
func TestRollback(t *testing.T) {
	l := newLab(t, 1, "")
	lo, err := capture(l.h, "lo")
	must(t, err)
	before := l.state()
	a := newAgent(t, "name="+l.bond, "slaves="+l.slaves[0]+" lo")
	stderr := a.expect("start", ocf.ErrGeneric)
	t.Logf("start with lo as a port: %s", reason(stderr))
	checkRestored(t, l, a, before)
	if now, _ := capture(l.h, "lo"); now != lo {
		t.Errorf("lo after rollback %+v, before %+v", now, lo)
	}
	a.expect("stop", ocf.Success)

	// A port of a bridge: refused, the bridge keeps it.
	br := fmt.Sprintf("h%dbr", l.id)
	must(t, exec.Command("ip", "link", "add", br, "type", "bridge").Run())
	defer exec.Command("ip", "link", "del", br).Run()
	must(t, exec.Command("ip", "link", "set", l.slaves[0], "master", br).Run())
	before = l.state()
	a.set("slaves=" + l.slaves[0])
	stderr = a.expect("start", ocf.ErrArgs)
	if r := reason(stderr); !strings.Contains(r, "already a port of "+br) {
		t.Errorf("bridge port reason %q", r)
	}
	checkRestored(t, l, a, before)
	a.expect("monitor", ocf.ErrNotRunning, probe)
	must(t, exec.Command("ip", "link", "set", l.slaves[0], "nomaster").Run())
	testutil.SetUp(t, l.here, l.slaves[0])

	// Killed (SIGKILL, as on a start timeout) while waiting for carrier:
	// stop undoes the half-done start.
	before = l.state()
	l.peerLink(0, false)
	self, _ := os.Executable()
	cmd := exec.Command(self, "start")
	cmd.Env = append(os.Environ(), "HANET_AS_AGENT=1", "HA_RSCTMP="+a.dir, "OCF_RESOURCE_INSTANCE="+a.instance,
		"OCF_RESKEY_name="+l.bond, "OCF_RESKEY_slaves="+l.slaves[0])
	must(t, cmd.Start())
	for !l.bondExists() {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	must(t, cmd.Process.Kill())
	_ = cmd.Wait()
	if !l.bondExists() || len(a.stateFiles()) != 1 {
		t.Fatalf("after the kill: bond %v, state files %v", l.bondExists(), a.stateFiles())
	}
	a.expect("monitor", ocf.ErrGeneric, recurring) // ours, no carrier
	a.expect("stop", ocf.Success)
	checkRestored(t, l, a, before)
	l.peerLink(0, true)
}

// TestReload: reload-agent changes miimon and the delays on the live bond
// without losing a datagram or a port; monitor at OCF_CHECK_LEVEL 10
// reports options changed behind our back; options removed from the
// configuration go back to the kernel's defaults.
func TestReload(t *testing.T) {
	l := newLab(t, 2, "")
	a := newAgent(t, "name="+l.bond, "slaves="+l.slaveList(), "miimon=100", "updelay=200", "primary="+l.slaves[0])
	a.expect("start", ocf.Success)
	l.addr()
	l.ping()
	a.monitor(ocf.Success, level10)

	s := l.stream(5 * time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	a.set("miimon=50", "updelay=100", "num_grat_arp=3")
	t0 := time.Now()
	a.expect("reload-agent", ocf.Success)
	took := time.Since(t0)
	time.Sleep(200 * time.Millisecond)
	sent, lost, gap := s.stop()
	t.Logf("reload-agent (miimon 100->50, updelay 200->100) in %s: %d of %d datagrams lost, longest gap %s",
		took.Round(time.Millisecond), lost, sent, gap.Round(time.Millisecond))
	if lost != 0 {
		t.Errorf("reload-agent lost %d datagrams", lost)
	}
	for attr, want := range map[string]string{"miimon": "50", "updelay": "100", "num_grat_arp": "3", "primary": l.slaves[0]} {
		if got := l.sysfs(attr); got != want {
			t.Errorf("after reload: %s = %q, want %q", attr, got, want)
		}
	}
	a.monitor(ocf.Success, level10)
	for _, sl := range l.slaves {
		b, _ := os.ReadFile("/sys/class/net/" + sl + "/bonding_slave/link_failure_count")
		if strings.TrimSpace(string(b)) != "0" {
			t.Errorf("%s link_failure_count %s after reload", sl, b)
		}
	}

	// Drift: someone changes miimon behind our back.
	must(t, os.WriteFile("/sys/class/net/"+l.bond+"/bonding/miimon", []byte("300"), 0))
	stderr := a.monitor(ocf.Degraded, level10)
	if r := reason(stderr); !strings.Contains(r, "drift: miimon is 300, configured 50") {
		t.Errorf("drift reason %q", r)
	}
	a.monitor(ocf.Success) // level 0 does not compare options
	a.expect("reload-agent", ocf.Success)
	a.monitor(ocf.Success, level10)

	// Removed from the configuration: back to the kernel default.
	a.set("primary=", "num_grat_arp=")
	a.expect("reload-agent", ocf.Success)
	if got, got2 := l.sysfs("primary"), l.sysfs("num_grat_arp"); got != "" || got2 != "1" {
		t.Errorf("after removing primary and num_grat_arp: primary %q num_grat_arp %q, want \"\" and 1", got, got2)
	}
	a.monitor(ocf.Success, level10)
	a.expect("stop", ocf.Success)
}

// TestBadParameters: wrong parameters are 6 and change nothing; a missing
// slave is 2 for start and validate-all at level 10, 7 for a probe.
func TestBadParameters(t *testing.T) {
	l := newLab(t, 2, "")
	before := l.state()
	for _, bad := range [][]string{
		{"mode=active-backup", "lacp_rate=fast"},
		{"miimon=100", "arp_interval=100", "arp_ip_target=" + l.peerIP()},
		{"primary=" + l.slaves[0], "mode=balance-rr"},
		{"primary=nothere"},
		{"arp_validate=all"},
		{"slaves=" + l.slaves[0] + " " + l.slaves[0]},
		{"mode=banana"},
		{"name=bonding_masters"},
	} {
		a := newAgent(t, append([]string{"name=" + l.bond, "slaves=" + l.slaveList()}, bad...)...)
		a.expect("validate-all", ocf.ErrConfigured)
		stderr := a.expect("start", ocf.ErrConfigured)
		t.Logf("%v: %s", bad, reason(stderr))
		a.expect("monitor", ocf.ErrConfigured, probe)
		a.expect("monitor", ocf.ErrGeneric, recurring)
		a.expect("stop", ocf.Success)
		checkRestored(t, l, a, before)
	}

	a := newAgent(t, "name="+l.bond, "slaves="+l.slaves[0]+" nothere0")
	a.expect("validate-all", ocf.Success)
	stderr := a.expect("validate-all", ocf.ErrArgs, level10)
	if r := reason(stderr); !strings.Contains(r, "nothere0 does not exist on this node") {
		t.Errorf("reason %q", r)
	}
	a.expect("start", ocf.ErrArgs)
	a.expect("monitor", ocf.ErrNotRunning, probe)
	a.expect("stop", ocf.Success)
	checkRestored(t, l, a, before)
}
