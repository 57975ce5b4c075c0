//go:build linux && vmtest && !integration

// The guest half of the bond tests: ocf:hanet:linkhealth watching a real
// active-backup bond, which needs the bonding driver the host kernel lacks.
// TestGuestBond (bond_host_test.go) builds this package with -tags vmtest
// and boots it in the qemu lab of tests/vm, where there is no Go toolchain
// and no agent binary: the test binary is the agent. With
// HANET_LINKHEALTH_AS_AGENT=1 TestMain runs ocf.Run(linkhealth.Agent{})
// instead of the tests; the watcher start spawns (os.Executable() __watch)
// inherits that variable and so comes back here too. The integration files
// are left out (!integration), so the two TestMains never meet.

package linkhealth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	lh "github.com/hanet/hanet/agents/linkhealth"
	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/testutil"
)

// asAgentEnv makes the test binary run the agent instead of the tests.
const asAgentEnv = "HANET_LINKHEALTH_AS_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(asAgentEnv) == "1" {
		ocf.Run(lh.Agent{}) // exits
	}
	os.Exit(m.Run())
}

// The guest's bond and the attributes the agent publishes for it.
const (
	gBond       = "lhb0"
	gAttr       = "linkhealth-" + gBond
	gHealth     = "#health-" + gAttr
	gInstance   = "lhbond"
	guestPath   = "/sbin:/bin:/usr/sbin:/usr/bin"
	publishSLA  = 200 * time.Millisecond // a lost slave reaches attrd within this
	slaSamples  = 3                      // flaps measured at most for publishSLA
	miimon      = 100                    // ms
	gInterval   = 200 * time.Millisecond // probe_interval during recovery
	gRecover    = 3                      // recover_count
	waitPublish = 10 * time.Second       // how long waitUpdate and waitStatus wait at most
)

// gAttrdScript is the attrd_updater double for busybox sh (the guest has no
// bash; busybox ash has $EPOCHREALTIME): it appends "<EPOCHREALTIME> <args>"
// to its log.
const gAttrdScript = `#!/bin/sh
printf '%s %s\n' "$EPOCHREALTIME" "$*" >> '@DIR@/attrd.log'
exit 0
`

// bondRig is the guest test's network and agent: an active-backup bond
// (miimon 100) in the guest's own namespace over two veth slaves whose peers
// sit in a peer namespace, the agent's state directory and the attrd double.
// The bond lives in the guest's initial namespace (never the host's: the
// test skips outside the guest) so that the agent also reads the slave order
// from the real /sys/class/net/<bond>/bonding/slaves.
type bondRig struct {
	t      *testing.T
	h      *netlink.Handle // the guest's namespace
	here   netns.NsHandle
	peer   netns.NsHandle
	slaves []string          // bond slaves, here
	peers  []string          // their veth peers, in peer
	state  string            // HA_RSCTMP
	attrd  string            // directory of the double and its log
	p      map[string]string // the resource's parameters
}

func newBondRig(t *testing.T) *bondRig {
	t.Helper()
	if !testutil.InGuest() {
		t.Skip("needs the bonding driver: run through tests/vm/run (go test -run TestGuestBond on the host)")
	}
	testutil.SkipUnlessRoot(t)
	if _, err := os.Stat("/sys/class/net/bonding_masters"); err != nil {
		t.Fatalf("bonding driver not loaded in the guest: %v", err)
	}
	r := &bondRig{t: t, state: t.TempDir(), attrd: t.TempDir(), p: map[string]string{
		"interfaces":       gBond,
		"health_attribute": "true",
		"probe_interval":   "1h", // until the recovery: events alone must do
		"recover_count":    strconv.Itoa(gRecover),
	}}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	r.h = h
	if r.here, err = netns.Get(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.here.Close() })
	r.peer = testutil.NewNS(t)

	script := strings.ReplaceAll(gAttrdScript, "@DIR@", r.attrd)
	if err := os.WriteFile(filepath.Join(r.attrd, "attrd_updater"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	b := netlink.NewLinkBond(netlink.NewLinkAttrs())
	b.Name = gBond
	b.Mode = netlink.BOND_MODE_ACTIVE_BACKUP
	b.Miimon = miimon
	if err := h.LinkAdd(b); err != nil {
		t.Fatalf("add bond %s: %v", gBond, err)
	}
	t.Cleanup(r.cleanup)
	bond, err := h.LinkByName(gBond)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		s, p := fmt.Sprintf("lhbs%d", i), fmt.Sprintf("lhbp%d", i)
		testutil.Veth(t, r.here, s, r.peer, p)
		r.slaves, r.peers = append(r.slaves, s), append(r.peers, p)
		l, err := h.LinkByName(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetDown(l); err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetMaster(l, bond); err != nil {
			t.Fatalf("enslave %s to %s: %v", s, gBond, err)
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.LinkSetUp(bond); err != nil {
		t.Fatal(err)
	}
	r.waitMII(true, true)
	testutil.WaitOperUp(t, r.here, gBond, 5*time.Second)
	return r
}

// cleanup stops the resource, kills any watcher left and removes the bond
// and the veth pairs.
func (r *bondRig) cleanup() {
	if res := r.run("stop"); res.code != 0 {
		r.t.Logf("cleanup: stop = %d: %s", res.code, res.stderr)
	}
	for _, pid := range r.watchers() {
		r.t.Errorf("cleanup: watcher pid %d survived stop; killing it", pid)
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	for _, n := range append([]string{gBond}, r.slaves...) {
		if l, err := r.h.LinkByName(n); err == nil {
			_ = r.h.LinkDel(l)
		}
	}
}

// mii returns the bonding driver's MII status of each slave.
func (r *bondRig) mii() []bool {
	r.t.Helper()
	var up []bool
	for _, s := range r.slaves {
		l, err := r.h.LinkByName(s)
		if err != nil {
			r.t.Fatal(err)
		}
		bs, ok := l.Attrs().Slave.(*netlink.BondSlave)
		up = append(up, ok && bs.MiiStatus == netlink.BondLinkUp)
	}
	return up
}

// waitMII waits until the slaves' MII status is want.
func (r *bondRig) waitMII(want ...bool) {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := r.mii()
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("slave MII status %v after 5 s, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// peerLink sets peer port i down or up, so that bond slave i loses or gets
// back its carrier, and returns the time just before the change.
func (r *bondRig) peerLink(i int, up bool) time.Time {
	r.t.Helper()
	l := testutil.Link(r.t, r.peer, r.peers[i])
	h := testutil.Handle(r.t, r.peer)
	at := time.Now()
	var err error
	if up {
		err = h.LinkSetUp(l)
	} else {
		err = h.LinkSetDown(l)
	}
	if err != nil {
		r.t.Fatalf("set %s up=%v: %v", r.peers[i], up, err)
	}
	return at
}

// gResult is one agent run.
type gResult struct {
	code   int
	stderr string
	took   time.Duration
}

// reason returns the last exit-reason line.
func (res gResult) reason() string {
	var reason string
	for _, l := range strings.Split(res.stderr, "\n") {
		if s, ok := strings.CutPrefix(l, "ocf-exit-reason:"); ok {
			reason = s
		}
	}
	return reason
}

// run runs an agent action (this binary as the agent) with extra
// environment entries.
func (r *bondRig) run(action string, extra ...string) gResult {
	r.t.Helper()
	self, err := os.Executable()
	if err != nil {
		r.t.Fatal(err)
	}
	cmd := exec.Command(self, action)
	cmd.Env = []string{
		asAgentEnv + "=1",
		"PATH=" + r.attrd + ":" + guestPath,
		"HA_RSCTMP=" + r.state,
		"OCF_ROOT=/usr/lib/ocf",
		"OCF_RESOURCE_INSTANCE=" + gInstance,
		"OCF_RESKEY_CRM_meta_timeout=20000",
	}
	for k, v := range r.p {
		cmd.Env = append(cmd.Env, "OCF_RESKEY_"+k+"="+v)
	}
	cmd.Env = append(cmd.Env, extra...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	res := gResult{stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		res.code = ee.ExitCode()
	default:
		r.t.Fatalf("run %s: %v\n%s", action, err, stderr.String())
	}
	return res
}

// must runs action and fails the test unless it exits with code.
func (r *bondRig) must(code ocf.ExitCode, action string, extra ...string) gResult {
	r.t.Helper()
	res := r.run(action, extra...)
	if res.code != int(code) {
		r.t.Fatalf("%s = %d, want %d (took %v); stderr:\n%s\nwatcher log:\n%s", action, res.code, code, res.took, res.stderr, r.watcherLog())
	}
	return res
}

// monitor runs a recurring monitor.
func (r *bondRig) monitor() gResult {
	r.t.Helper()
	return r.run("monitor", "OCF_RESKEY_CRM_meta_interval=10000")
}

func (r *bondRig) base() string { return filepath.Join(r.state, "hanet-linkhealth-"+gInstance) }

func (r *bondRig) watcherLog() string {
	b, _ := os.ReadFile(r.base() + ".log")
	return string(b)
}

// status reads the watcher's status file.
func (r *bondRig) status() lh.Status {
	r.t.Helper()
	var st lh.Status
	b, err := os.ReadFile(r.base() + ".status")
	if err != nil {
		r.t.Fatalf("read status: %v", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		r.t.Fatalf("status %s: %v", b, err)
	}
	return st
}

// waitStatus waits until the status reports one of the link details want
// for the bond.
func (r *bondRig) waitStatus(want ...string) lh.Status {
	r.t.Helper()
	deadline := time.Now().Add(waitPublish)
	for {
		st := r.status()
		if len(st.Links) == 1 && slices.Contains(want, st.Links[0].Detail) {
			return st
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("status links %+v after %v, want detail %q\nwatcher log:\n%s", st.Links, waitPublish, want, r.watcherLog())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// watchers returns the pids of watchers whose state lives in r.state.
func (r *bondRig) watchers() []int { return watchers(r.state) }

// stateFiles lists the state directory, action lock files excepted.
func (r *bondRig) stateFiles() []string { return stateFiles(r.state) }

// calls returns every attrd_updater call so far.
func (r *bondRig) calls() []attrdCall {
	r.t.Helper()
	return readAttrdLog(r.t, r.attrd)
}

// values returns the values set for attribute name (-B), in order.
func (r *bondRig) values(name string) []string {
	return attrdValues(attrdUpdates(r.calls(), name))
}

// waitUpdate waits until attribute name is set to value at or after since
// and returns that call.
func (r *bondRig) waitUpdate(name, value string, since time.Time) attrdCall {
	r.t.Helper()
	return waitAttrdUpdate(r.t, r.attrd, name, value, since, waitPublish, r.watcherLog)
}

// TestBondHealth: an active-backup bond of two slaves is one healthy link
// (value 1) and green. Losing one slave keeps the value at 1 and turns the
// health attribute yellow, the slave's return green again; losing both gives
// 0 and red. Those run with probe_interval=1h, so no periodic re-read can
// stand in for the reaction to the slaves' and the bond's link events: only
// the events can publish them. After reload-agent to probe_interval=200ms, a
// slave coming back makes the bond healthy again only after recover_count
// checks (value 1, yellow: a slave still missing), the second one turns it
// green at once. Stop removes both attributes and leaves nothing behind.
func TestBondHealth(t *testing.T) {
	r := newBondRig(t)
	defer func() {
		if t.Failed() {
			t.Logf("watcher log:\n%s", r.watcherLog())
		}
	}()

	res := r.must(0, "start")
	t.Logf("start took %v", res.took.Round(time.Millisecond))
	if vs, hs := r.values(gAttr), r.values(gHealth); !slices.Equal(vs, []string{"1"}) || !slices.Equal(hs, []string{lh.Green}) {
		t.Fatalf("after start: %s %v, %s %v; want [1] and [green]; calls %v", gAttr, vs, gHealth, hs, r.calls())
	}
	st := r.waitStatus("bond up, 2/2 slaves up")
	if st.Value != 1 || st.Color != lh.Green || st.Links[0].Partial || !st.Links[0].Healthy {
		t.Errorf("status after start %+v, want value 1, green, not partial", st)
	}
	r.must(0, "monitor", "OCF_RESKEY_CRM_meta_interval=10000")

	// One slave loses its carrier: the bond still carries traffic, so the
	// value stays 1 and the health attribute turns yellow; its return turns
	// it green (the link stayed healthy: no hysteresis). The latency is the
	// best of up to slaSamples flaps: the guest is an emulator sharing a
	// loaded CI machine, where one sample can stall for hundreds of
	// milliseconds, while a watcher that waited for anything (a tick, a
	// second event) would miss publishSLA every time.
	wantHealth := []string{lh.Green}
	var samples []time.Duration
	for len(samples) < slaSamples {
		down := r.peerLink(0, false)
		c := r.waitUpdate(gHealth, lh.Yellow, down)
		samples = append(samples, c.at.Sub(down))
		wantHealth = append(wantHealth, lh.Yellow)
		r.waitMII(false, true)
		st = r.waitStatus("bond up, 1/2 slaves up (" + r.slaves[0] + " down)")
		if st.Value != 1 || st.Color != lh.Yellow || !st.Links[0].Partial || !st.Links[0].Healthy {
			t.Errorf("status with one slave down %+v, want value 1, yellow, healthy and partial", st)
		}
		if slices.Min(samples) <= publishSLA {
			break
		}
		up := r.peerLink(0, true)
		c = r.waitUpdate(gHealth, lh.Green, up)
		wantHealth = append(wantHealth, lh.Green)
		t.Logf("slave %s back → %s=green: %v", r.slaves[0], gHealth, c.at.Sub(up))
		r.waitMII(true, true)
	}
	t.Logf("slave %s lost → %s=yellow: %v", r.slaves[0], gHealth, samples)
	if best := slices.Min(samples); best > publishSLA {
		t.Errorf("one slave lost: yellow published after %v at best, want within %v", best, publishSLA)
	}
	if vs := r.values(gAttr); !slices.Equal(vs, []string{"1"}) {
		t.Errorf("%s with one slave down: values %v, want [1] (the bond still has a slave)", gAttr, vs)
	}
	if res := r.monitor(); res.code != 0 {
		t.Errorf("monitor with one slave down = %d %q, want 0 (one healthy link, min_healthy 1)", res.code, res.reason())
	}

	// The second slave loses its carrier too: the bond is down.
	down := r.peerLink(1, false)
	c := r.waitUpdate(gAttr, "0", down)
	zero := c.at.Sub(down)
	c = r.waitUpdate(gHealth, lh.Red, down)
	wantHealth = append(wantHealth, lh.Red)
	t.Logf("slave %s lost too → %s=0: %v, %s=red: %v", r.slaves[1], gAttr, zero, gHealth, c.at.Sub(down))
	r.waitMII(false, false)
	// Which of the two the status ends with depends on whether the slave
	// or the bond's own carrier loss was seen last.
	st = r.waitStatus("bond with no slave up ("+strings.Join(r.slaves, ", ")+" down)", "down or no carrier")
	if st.Value != 0 || st.Color != lh.Red || st.Links[0].Healthy || !st.Short {
		t.Errorf("status with both slaves down %+v, want value 0, red, unhealthy, short", st)
	}
	if res := r.monitor(); res.code != int(ocf.Degraded) || !strings.Contains(res.reason(), gBond+": ") {
		t.Errorf("monitor with both slaves down = %d %q, want 190 naming %s", res.code, res.reason(), gBond)
	} else {
		t.Logf("monitor with both slaves down: %s", res.reason())
	}

	// Recovery counts checks, one per probe_interval: bring it to 200ms.
	r.p["probe_interval"] = gInterval.String()
	r.must(0, "reload-agent")

	// The first slave returns: healthy again after recover_count checks,
	// yellow while the second one is still missing.
	up := r.peerLink(0, true)
	c = r.waitUpdate(gAttr, "1", up)
	recovery := c.at.Sub(up)
	c = r.waitUpdate(gHealth, lh.Yellow, up)
	wantHealth = append(wantHealth, lh.Yellow)
	t.Logf("slave %s back → %s=1: %v, %s=yellow: %v (recover_count %d, probe_interval %v, miimon %d ms)",
		r.slaves[0], gAttr, recovery, gHealth, c.at.Sub(up), gRecover, gInterval, miimon)
	// The return is one good check; the others come with the ticks, the
	// last at least (recover_count-2) intervals after the first tick.
	if least := time.Duration(gRecover-2) * gInterval; recovery < least {
		t.Errorf("bond healthy again after %v: hysteresis not applied (want ≥ %v)", recovery, least)
	}
	st = r.waitStatus("bond up, 1/2 slaves up (" + r.slaves[1] + " down)")
	if st.Value != 1 || st.Color != lh.Yellow || !st.Links[0].Partial {
		t.Errorf("status with one slave back %+v, want value 1, yellow, partial", st)
	}

	// The second slave returns: the bond is complete again, green at once
	// (the link is healthy already, so no hysteresis).
	up = r.peerLink(1, true)
	c = r.waitUpdate(gHealth, lh.Green, up)
	wantHealth = append(wantHealth, lh.Green)
	t.Logf("slave %s back → %s=green: %v", r.slaves[1], gHealth, c.at.Sub(up))
	r.waitMII(true, true)
	st = r.waitStatus("bond up, 2/2 slaves up")
	if st.Value != 1 || st.Color != lh.Green || st.Links[0].Partial {
		t.Errorf("status after recovery %+v, want value 1, green, not partial", st)
	}
	r.must(0, "monitor", "OCF_RESKEY_CRM_meta_interval=10000")
	if vs := r.values(gAttr); !slices.Equal(vs, []string{"1", "0", "1"}) {
		t.Errorf("%s values %v, want [1 0 1]", gAttr, vs)
	}
	if hs := r.values(gHealth); !slices.Equal(hs, wantHealth) {
		t.Errorf("%s values %v, want %v", gHealth, hs, wantHealth)
	}

	// Stop removes both attributes and leaves no watcher and no state.
	n := len(r.calls())
	r.must(0, "stop")
	var deleted []string
	for _, c := range r.calls()[n:] {
		if c.has("-D") {
			deleted = append(deleted, c.arg("-n"))
		} else {
			t.Errorf("stop: unexpected attrd_updater call %q", c)
		}
	}
	slices.Sort(deleted)
	if want := []string{gHealth, gAttr}; !slices.Equal(deleted, want) {
		t.Errorf("stop removed %v, want %v", deleted, want)
	}
	if p := r.watchers(); len(p) != 0 {
		t.Errorf("watchers after stop: %v", p)
	}
	if f := r.stateFiles(); len(f) != 0 {
		t.Errorf("state files after stop: %v", f)
	}
	r.must(ocf.ErrNotRunning, "monitor")
	r.must(0, "stop")
}
