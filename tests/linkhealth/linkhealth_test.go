//go:build integration

package linkhealth

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/ocf/ocftest"
	"github.com/hanet/hanet/pkg/testutil"
)

const attr = "linkhealth-lh0" // the default name for interfaces=lh0

// merge returns base with the key=value pairs kv added.
func merge(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestMetadataForms(t *testing.T) {
	for _, form := range []ocf.Form{ocf.OCF10, ocf.OCF11} {
		cmd := exec.Command(bin, "meta-data")
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		if form == ocf.OCF11 {
			cmd.Env = append(cmd.Env, "OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1")
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("meta-data: %v", err)
		}
		if err := ocftest.ValidateMetadata(out, form); err != nil {
			t.Errorf("meta-data form %d: %v\n%s", form, err, out)
		}
	}
}

func TestOCFTester(t *testing.T) {
	w := newWorld(t)
	cmd := testutil.Exec(w.node, "/usr/sbin/ocf-tester", "-n", w.inst, "-o", "interfaces=lh0", "-o", "probe_interval=200ms", bin)
	cmd.Env = w.env(nil)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "passed all tests") {
		t.Fatalf("ocf-tester: %v\n%s\nwatcher log:\n%s", err, out, w.watcherLog())
	}
	if p := watchers(w.state); len(p) != 0 {
		t.Errorf("watchers left after ocf-tester: %v", p)
	}
}

// TestCarrierLoss: losing carrier is published within milliseconds; coming
// back waits for recover_count good checks; stop removes the attribute.
func TestCarrierLoss(t *testing.T) {
	w := newWorld(t)
	p := map[string]string{"probe_interval": "200ms", "recover_count": "3", "dampen": "0"}
	r := w.must(0, "start", p)
	t.Logf("start took %v", r.took)
	if us := w.updates(attr); len(us) != 1 || us[0].arg("-B") != "1" || us[0].arg("-d") != "0s" {
		t.Fatalf("after start: calls %v, want one -B 1 -d 0s", w.calls())
	}
	w.must(0, "monitor", p, "OCF_RESKEY_CRM_meta_interval=10000")

	down := linkSet(t, w.peer, "lh0p", false)
	c := w.waitUpdate(attr, "0", down, 2*time.Second)
	latency := c.at.Sub(down)
	t.Logf("carrier loss → attrd_updater -B 0: %v", latency)
	if latency > 500*time.Millisecond {
		t.Errorf("carrier loss took %v to publish, want well under 100 ms (500 ms allowed on a loaded machine)", latency)
	}
	r = w.monitor(p)
	if r.code != int(ocf.Degraded) || !strings.Contains(r.reason(), "lh0: down or no carrier") {
		t.Errorf("monitor with the link down = %d %q, want 190 naming lh0", r.code, r.reason())
	}

	up := linkSet(t, w.peer, "lh0p", true)
	c = w.waitUpdate(attr, "1", up, 3*time.Second)
	recovery := c.at.Sub(up)
	t.Logf("carrier back → attrd_updater -B 1: %v (recover_count 3, probe_interval 200ms)", recovery)
	// Carrier's return is one good check; two more come with the ticks.
	if recovery < 200*time.Millisecond {
		t.Errorf("recovered after %v: hysteresis not applied (want ≥ 2 checks 200 ms apart)", recovery)
	}
	w.must(0, "monitor", p, "OCF_RESKEY_CRM_meta_interval=10000")
	if vs := w.values(attr); !slices.Equal(vs, []string{"1", "0", "1"}) {
		t.Errorf("values %v, want [1 0 1]", vs)
	}

	w.must(0, "stop", p)
	calls := w.calls()
	if last := calls[len(calls)-1]; last.arg("-n") != attr || !last.has("-D") {
		t.Errorf("last call after stop %v, want -n %s -D", last.args, attr)
	}
	if p := watchers(w.state); len(p) != 0 {
		t.Errorf("watchers after stop: %v", p)
	}
	if f := w.stateFiles(); len(f) != 0 {
		t.Errorf("state files after stop: %v", f)
	}
	w.must(7, "monitor", p)
	w.must(0, "stop", p)
}

// TestFlapping: 100 carrier flaps within a second make two updates (down,
// then up once the flapping stopped long enough), not hundreds.
func TestFlapping(t *testing.T) {
	w := newWorld(t)
	p := map[string]string{"probe_interval": "200ms", "recover_count": "3", "dampen": "0"}
	w.must(0, "start", p)
	before := len(w.calls())
	start := time.Now()
	for range 100 {
		linkSet(t, w.peer, "lh0p", false)
		time.Sleep(4 * time.Millisecond)
		linkSet(t, w.peer, "lh0p", true)
		time.Sleep(4 * time.Millisecond)
	}
	end := time.Now()
	t.Logf("100 flaps in %v", end.Sub(start))
	w.waitUpdate(attr, "1", end, 3*time.Second)
	time.Sleep(300 * time.Millisecond)
	var vs []string
	for _, c := range w.calls()[before:] {
		vs = append(vs, c.arg("-B"))
	}
	t.Logf("updates during and after the flapping: %v", vs)
	if !slices.Equal(vs, []string{"0", "1"}) {
		t.Errorf("updates %v, want [0 1]", vs)
	}
}

// switchWorld puts a bridge (the switch) in the peer namespace with lh0p
// and tg0p as ports, and a target namespace behind tg0p holding 192.0.2.1
// and 2001:db8::1. The node has 192.0.2.10 and 2001:db8::10 on lh0.
func switchWorld(t *testing.T) (*world, func() func()) {
	w := newWorld(t)
	target := testutil.NewNS(t)
	veth(t, w.peer, "tg0p", 110, target, "tg0")
	h := testutil.Handle(t, w.peer)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "br0"
	br := &netlink.Bridge{LinkAttrs: attrs}
	if err := h.LinkAdd(br); err != nil {
		t.Fatalf("add bridge: %v", err)
	}
	for _, port := range []string{"lh0p", "tg0p"} {
		if err := h.LinkSetMaster(testutil.Link(t, w.peer, port), br); err != nil {
			t.Fatalf("enslave %s: %v", port, err)
		}
	}
	testutil.SetUp(t, w.peer, "br0")
	testutil.WaitOperUp(t, w.peer, "br0", 5*time.Second)
	testutil.AddAddr(t, w.node, "lh0", "192.0.2.10/24")
	testutil.AddAddr(t, w.node, "lh0", "2001:db8::10/64")
	testutil.AddAddr(t, target, "tg0", "192.0.2.1/24")
	testutil.AddAddr(t, target, "tg0", "2001:db8::1/64")
	return w, func() func() { return tcDrop(t, target, "tg0") }
}

// TestProbeBeyondSwitch: the target stops answering while every carrier
// stays up; the probes find it after fail_count rounds, and recovery takes
// recover_count answered rounds.
func TestProbeBeyondSwitch(t *testing.T) {
	for _, tc := range []struct{ name, target string }{
		{"ARP", "192.0.2.1@lh0"},
		{"NS", "2001:db8::1@lh0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, drop := switchWorld(t)
			p := map[string]string{"arp_targets": tc.target, "probe_interval": "200ms", "probe_timeout": "150ms",
				"fail_count": "2", "recover_count": "3", "dampen": "0"}
			w.must(0, "start", p)
			if vs := w.values(attr); !slices.Equal(vs, []string{"1"}) {
				t.Fatalf("after start: %v, want [1] (target answering)\n%s", vs, w.watcherLog())
			}

			undo := drop()
			t0 := time.Now()
			c := w.waitUpdate(attr, "0", t0, 3*time.Second)
			t.Logf("target silenced → -B 0 after %v (fail_count 2, probe_interval 200ms, probe_timeout 150ms)", c.at.Sub(t0))
			if d := c.at.Sub(t0); d < 150*time.Millisecond {
				t.Errorf("declared unhealthy after %v: fewer than fail_count rounds", d)
			}
			if l := testutil.Link(t, w.node, "lh0"); l.Attrs().OperState != netlink.OperUp {
				t.Errorf("lh0 is %s, want up: the failure must be beyond the switch", l.Attrs().OperState)
			}
			r := w.monitor(p)
			if r.code != int(ocf.Degraded) {
				t.Errorf("monitor = %d, want 190: %s", r.code, r.stderr)
			}

			undo()
			t1 := time.Now()
			c = w.waitUpdate(attr, "1", t1, 3*time.Second)
			t.Logf("target back → -B 1 after %v (recover_count 3)", c.at.Sub(t1))
			if d := c.at.Sub(t1); d < 350*time.Millisecond {
				t.Errorf("recovered after %v: want ≥ 3 answered rounds 200 ms apart", d)
			}
			if vs := w.values(attr); !slices.Equal(vs, []string{"1", "0", "1"}) {
				t.Errorf("values %v, want [1 0 1]", vs)
			}
		})
	}
}

// TestWatcherRestart: a watcher killed with SIGKILL is restarted by the
// next monitor, which says so and still reports success.
func TestWatcherRestart(t *testing.T) {
	w := newWorld(t)
	p := map[string]string{"probe_interval": "200ms", "dampen": "0"}
	w.must(0, "start", p)
	pid := w.watcherPid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); slices.Contains(watchers(w.state), pid); {
		if time.Now().After(deadline) {
			t.Fatal("watcher survives SIGKILL")
		}
		time.Sleep(5 * time.Millisecond)
	}
	killed := time.Now()
	r := w.monitor(p)
	if r.code != 0 || !strings.Contains(r.stderr, "is not running: restarting it") || !strings.Contains(r.stderr, "watcher restarted") {
		t.Fatalf("monitor after SIGKILL = %d, want 0 logging the restart; stderr:\n%s", r.code, r.stderr)
	}
	pid2 := w.watcherPid()
	if pid2 == pid || !slices.Equal(watchers(w.state), []int{pid2}) {
		t.Fatalf("after restart: recorded pid %d (was %d), watchers %v", pid2, pid, watchers(w.state))
	}
	w.waitUpdate(attr, "1", killed, time.Second)
	// The new watcher works.
	down := linkSet(t, w.peer, "lh0p", false)
	c := w.waitUpdate(attr, "0", down, 2*time.Second)
	t.Logf("restarted watcher: carrier loss published after %v", c.at.Sub(down))
	// A probe restarts a dead watcher as well.
	_ = syscall.Kill(pid2, syscall.SIGKILL)
	time.Sleep(50 * time.Millisecond)
	if r := w.run("monitor", p, "OCF_RESKEY_CRM_meta_interval=0"); r.code != int(ocf.Degraded) {
		t.Errorf("probe after SIGKILL with the link down = %d, want 190: %s", r.code, r.stderr)
	}
}

// TestAttrdFailures: attrd_updater's 102 never leaves the agent: start
// fails with 1 and a clear reason; a running watcher retries and monitor
// reports 1 meanwhile; stop succeeds with a warning.
func TestAttrdFailures(t *testing.T) {
	w := newWorld(t)
	p := map[string]string{"probe_interval": "200ms", "dampen": "0"}
	w.setAttrdExit(102)
	r := w.run("start", p)
	if r.code != 1 || !strings.HasPrefix(r.reason(), "attrd is not running") {
		t.Errorf("start without attrd = %d %q, want 1 'attrd is not running…'", r.code, r.reason())
	}
	if p := watchers(w.state); len(p) != 0 {
		t.Errorf("watchers after a failed start: %v", p)
	}
	if f := w.stateFiles(); len(f) != 0 {
		t.Errorf("state files after a failed start: %v", f)
	}
	w.must(7, "monitor", p)
	w.must(0, "stop", p)

	w.setAttrdExit(0)
	w.must(0, "start", p)
	w.setAttrdExit(102)
	down := linkSet(t, w.peer, "lh0p", false)
	w.waitUpdate(attr, "0", down, 2*time.Second) // the failed attempt is logged too
	time.Sleep(20 * time.Millisecond)
	r = w.monitor(p)
	if r.code != 1 || !strings.Contains(r.reason(), "attrd_updater keeps failing") {
		t.Errorf("monitor while attrd fails = %d %q, want 1", r.code, r.reason())
	}
	w.setAttrdExit(0)
	retry := time.Now()
	w.waitUpdate(attr, "0", retry, 3*time.Second) // retried after the 1 s backoff
	time.Sleep(20 * time.Millisecond)
	if r := w.monitor(p); r.code != int(ocf.Degraded) {
		t.Errorf("monitor after the retry = %d, want 190 (link down): %s", r.code, r.stderr)
	}

	w.setAttrdExit(102)
	r = w.must(0, "stop", p)
	if !strings.Contains(r.stderr, "WARNING") || !strings.Contains(r.stderr, "not removed") {
		t.Errorf("stop without attrd: no warning in\n%s", r.stderr)
	}
	if p := watchers(w.state); len(p) != 0 {
		t.Errorf("watchers after stop: %v", p)
	}
	w.setAttrdExit(0)
}

// TestMissingInterface: an interface missing on this node is an unhealthy
// link, not a failed resource; validate-all at depth 10 reports it as 2.
func TestMissingInterface(t *testing.T) {
	w := newWorld(t)
	p := map[string]string{"interfaces": "lh0 lhgone0", "probe_interval": "200ms", "recover_count": "1", "dampen": "0"}
	const name = "linkhealth-lh0-lhgone0"
	r := w.run("validate-all", p, "OCF_CHECK_LEVEL=10")
	if r.code != 2 || !strings.Contains(r.reason(), "lhgone0 does not exist") {
		t.Errorf("validate-all depth 10 = %d %q, want 2", r.code, r.reason())
	}
	w.must(0, "validate-all", p)
	w.must(7, "monitor", p) // probe: not running, never 6 or 2
	r = w.must(0, "start", p)
	if !strings.Contains(r.stderr, "lhgone0 does not exist") {
		t.Errorf("start: no warning about lhgone0:\n%s", r.stderr)
	}
	if vs := w.values(name); !slices.Equal(vs, []string{"1"}) {
		t.Errorf("values %v, want [1]", vs)
	}
	w.must(0, "monitor", p, "OCF_RESKEY_CRM_meta_interval=10000")
	w.must(0, "stop", p)

	p["min_healthy"] = "2"
	w.must(0, "start", p)
	r = w.monitor(p)
	if r.code != int(ocf.Degraded) || !strings.Contains(r.reason(), "lhgone0: absent") {
		t.Errorf("monitor, min_healthy 2 = %d %q, want 190 naming lhgone0", r.code, r.reason())
	}
	appeared := time.Now()
	veth(t, w.node, "lhgone0", 120, w.peer, "lhgone0p")
	w.waitUpdate(name, "2", appeared, 3*time.Second)
	time.Sleep(20 * time.Millisecond)
	w.must(0, "monitor", p, "OCF_RESKEY_CRM_meta_interval=10000")
}

// TestReload: reload-agent changes the multiplier, the dampening and the
// health attribute of the running watcher without restarting it.
func TestReload(t *testing.T) {
	w := newWorld(t)
	const health = "#health-" + attr
	p := map[string]string{"probe_interval": "200ms", "dampen": "0"}
	w.must(0, "start", p)
	pid := w.watcherPid()

	p2 := merge(p, "multiplier", "10", "health_attribute", "true", "dampen", "2s")
	t0 := time.Now()
	r := w.must(0, "reload-agent", p2)
	t.Logf("reload-agent took %v", r.took)
	if c := w.waitUpdate(attr, "10", t0, time.Second); c.arg("-d") != "2s" {
		t.Errorf("after reload: %v, want -d 2s", c.args)
	}
	w.waitUpdate(health, "green", t0, time.Second)
	if w.watcherPid() != pid || !slices.Equal(watchers(w.state), []int{pid}) {
		t.Errorf("reload restarted the watcher")
	}
	down := linkSet(t, w.peer, "lh0p", false)
	w.waitUpdate(attr, "0", down, time.Second)
	w.waitUpdate(health, "red", down, time.Second)

	p3 := merge(p2, "health_attribute", "false")
	t1 := time.Now()
	w.must(0, "reload-agent", p3)
	deleted := func() bool {
		for _, c := range w.calls() {
			if c.arg("-n") == health && c.has("-D") && !c.at.Before(t1) {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(time.Second); !deleted(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("health attribute not removed after health_attribute=false: %v", w.calls())
		}
	}
	r = w.run("reload-agent", merge(p3, "interfaces", "lh0 lh1"))
	if r.code != 1 || !strings.Contains(r.reason(), "restart") {
		t.Errorf("reload-agent with other interfaces = %d %q, want 1", r.code, r.reason())
	}
	w.must(0, "stop", p3)
	var removed []string
	for _, c := range w.calls() {
		if c.has("-D") {
			removed = append(removed, c.arg("-n"))
		}
	}
	if !slices.Contains(removed, attr) {
		t.Errorf("stop removed %v, want %s", removed, attr)
	}
}

// TestStartTwice: start is idempotent and keeps a single watcher.
func TestStartTwice(t *testing.T) {
	w := newWorld(t)
	w.must(0, "start", nil)
	pid := w.watcherPid()
	r := w.must(0, "start", nil)
	if !strings.Contains(r.stderr, "already running") || !slices.Equal(watchers(w.state), []int{pid}) {
		t.Errorf("second start: watchers %v (first %d); stderr %s", watchers(w.state), pid, r.stderr)
	}
	if _, err := os.Stat(w.base() + ".conf"); err != nil {
		t.Errorf("configuration file: %v", err)
	}
}
