//go:build integration

// Package linkhealth holds the black-box tests of the ocf:hanet:linkhealth
// binary: network namespaces joined by veth pairs (and a bridge standing in
// for a switch), a test double of attrd_updater on PATH that logs every call
// with a microsecond timestamp, and ocf-tester.
//
// The binary comes from $HANET_BIN/linkhealth, or is built once into a
// world-readable temporary directory (ocf-tester runs meta-data as nobody).
// Run as root: go test -tags integration ./tests/linkhealth/
package linkhealth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/hanet/hanet/pkg/testutil"
)

// bin is the agent under test.
var bin string

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	if d := os.Getenv("HANET_BIN"); d != "" {
		bin = filepath.Join(d, "linkhealth")
		if _, err := os.Stat(bin); err != nil {
			return 0, fmt.Errorf("HANET_BIN: %w", err)
		}
		return m.Run(), nil
	}
	dir, err := os.MkdirTemp("", "hanet-linkhealth-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return 0, err
	}
	bin = filepath.Join(dir, "linkhealth")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/hanet/hanet/cmd/linkhealth")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build linkhealth: %v\n%s", err, out)
	}
	return m.Run(), nil
}

// attrdScript is the attrd_updater test double: it appends
// "<EPOCHREALTIME> <args>" to its log and exits with the number in the
// file "exit" next to it (0 when absent), saying on stderr what the real
// one says without a cluster.
const attrdScript = `#!/bin/bash
printf '%s %s\n' "$EPOCHREALTIME" "$*" >> '@DIR@/attrd.log'
if [ -f '@DIR@/exit' ]; then
	read -r code < '@DIR@/exit'
	echo "attrd_updater: Could not update: Connection refused (111)" >&2
	exit "$code"
fi
exit 0
`

// A world is one test's namespaces, state directory and attrd double.
type world struct {
	t     *testing.T
	node  netns.NsHandle // where the agent runs
	peer  netns.NsHandle // the other end of lh0 (or the switch)
	state string         // HA_RSCTMP
	attrd string         // directory of the double and its log
	inst  string         // OCF_RESOURCE_INSTANCE
}

// newWorld builds node and peer namespaces joined by lh0 (node) and lh0p
// (peer), both up.
func newWorld(t *testing.T) *world {
	t.Helper()
	testutil.SkipUnlessRoot(t)
	w := &world{t: t, node: testutil.NewNS(t), peer: testutil.NewNS(t), inst: "lh"}
	w.state = t.TempDir()
	w.attrd = t.TempDir()
	if err := os.Chmod(w.attrd, 0o755); err != nil {
		t.Fatal(err)
	}
	script := strings.ReplaceAll(attrdScript, "@DIR@", w.attrd)
	if err := os.WriteFile(filepath.Join(w.attrd, "attrd_updater"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	veth(t, w.node, "lh0", 100, w.peer, "lh0p")
	t.Cleanup(w.cleanup)
	return w
}

// veth joins nameA in nsA to nameB in nsB, gives nameA the interface index
// indexA and waits for both ends to be up. The index matters: the kernel
// reports a carrier change at once only for "urgent" links, among them
// those whose index differs from their peer's (iflink); others wait for
// linkwatch, which runs at most once a second for the whole host. Two fresh
// namespaces would give both ends index 2, and the test would measure
// other tests' link changes. Bond slaves and masters are urgent too.
func veth(t *testing.T, nsA netns.NsHandle, nameA string, indexA int, nsB netns.NsHandle, nameB string) {
	t.Helper()
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.Index = nameA, indexA
	v := &netlink.Veth{LinkAttrs: attrs, PeerName: nameB}
	if !nsA.Equal(nsB) {
		v.PeerNamespace = netlink.NsFd(int(nsB))
	}
	if err := testutil.Handle(t, nsA).LinkAdd(v); err != nil {
		t.Fatalf("add veth %s/%s: %v", nameA, nameB, err)
	}
	testutil.SetUp(t, nsA, nameA)
	testutil.SetUp(t, nsB, nameB)
	testutil.WaitOperUp(t, nsA, nameA, 5*time.Second)
	testutil.WaitOperUp(t, nsB, nameB, 5*time.Second)
}

// cleanup stops the resource and kills any watcher left (a failed test).
func (w *world) cleanup() {
	if r := w.run("stop", nil); r.code != 0 {
		w.t.Logf("cleanup: stop = %d: %s", r.code, r.stderr)
	}
	for _, pid := range watchers(w.state) {
		w.t.Errorf("cleanup: watcher pid %d survived stop; killing it", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// result is one agent run.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// reason returns the last exit-reason line.
func (r result) reason() string {
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if s, ok := strings.CutPrefix(lines[i], "ocf-exit-reason:"); ok {
			return s
		}
	}
	return ""
}

// env returns the agent's environment for params plus extra KEY=value.
func (w *world) env(params map[string]string, extra ...string) []string {
	env := []string{
		"PATH=" + w.attrd + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HA_RSCTMP=" + w.state,
		"OCF_ROOT=/usr/lib/ocf",
		"OCF_RESOURCE_INSTANCE=" + w.inst,
		"OCF_RESKEY_CRM_meta_timeout=20000",
	}
	if g := os.Getenv("GORACE"); g != "" { // a -race build of the agent reports here
		env = append(env, "GORACE="+g)
	}
	if _, ok := params["interfaces"]; !ok {
		env = append(env, "OCF_RESKEY_interfaces=lh0")
	}
	for k, v := range params {
		env = append(env, "OCF_RESKEY_"+k+"="+v)
	}
	return append(env, extra...)
}

// run runs the agent action in the node namespace.
func (w *world) run(action string, params map[string]string, extra ...string) result {
	w.t.Helper()
	cmd := testutil.Exec(w.node, bin, action)
	cmd.Env = w.env(params, extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		w.t.Fatalf("run %s: %v", action, err)
	}
	return r
}

// must runs action and fails the test unless it exits with code.
func (w *world) must(code int, action string, params map[string]string, extra ...string) result {
	w.t.Helper()
	r := w.run(action, params, extra...)
	if r.code != code {
		w.t.Fatalf("%s = %d, want %d (took %v); stderr:\n%s\nwatcher log:\n%s", action, r.code, code, r.took, r.stderr, w.watcherLog())
	}
	return r
}

// monitor runs a recurring monitor (interval 10 s).
func (w *world) monitor(params map[string]string) result {
	w.t.Helper()
	return w.run("monitor", params, "OCF_RESKEY_CRM_meta_interval=10000")
}

// calls returns every attrd_updater call so far.
func (w *world) calls() []attrdCall {
	w.t.Helper()
	return readAttrdLog(w.t, w.attrd)
}

// updates returns the values set for attribute name (-B), in order, with
// their times.
func (w *world) updates(name string) []attrdCall { return attrdUpdates(w.calls(), name) }

// values returns the values of updates(name).
func (w *world) values(name string) []string { return attrdValues(w.updates(name)) }

// waitUpdate waits until attribute name is set to value after time since,
// and returns that call.
func (w *world) waitUpdate(name, value string, since time.Time, timeout time.Duration) attrdCall {
	w.t.Helper()
	return waitAttrdUpdate(w.t, w.attrd, name, value, since, timeout, w.watcherLog)
}

// setAttrdExit makes the double exit with code (0: succeed).
func (w *world) setAttrdExit(code int) {
	p := filepath.Join(w.attrd, "exit")
	if code == 0 {
		_ = os.Remove(p)
		return
	}
	if err := os.WriteFile(p, []byte(strconv.Itoa(code)+"\n"), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// base is the state-file prefix of the instance.
func (w *world) base() string { return filepath.Join(w.state, "hanet-linkhealth-"+w.inst) }

// watcherLog returns the watcher's stderr.
func (w *world) watcherLog() string {
	b, _ := os.ReadFile(w.base() + ".log")
	return string(b)
}

// watcherPid returns the pid start recorded.
func (w *world) watcherPid() int {
	w.t.Helper()
	var rec struct {
		Pid int `json:"pid"`
	}
	b, err := os.ReadFile(w.base() + ".pid")
	if err != nil {
		w.t.Fatalf("read record: %v", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		w.t.Fatal(err)
	}
	return rec.Pid
}

// stateFiles lists the state directory, action lock files excepted.
func (w *world) stateFiles() []string { return stateFiles(w.state) }

// linkDown and linkUp set link name in ns administratively down or up and
// return the time just before the change.
func linkSet(t *testing.T, ns netns.NsHandle, name string, up bool) time.Time {
	t.Helper()
	h := testutil.Handle(t, ns)
	l, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if up {
		err = h.LinkSetUp(l)
	} else {
		err = h.LinkSetDown(l)
	}
	if err != nil {
		t.Fatalf("set %s up=%v: %v", name, up, err)
	}
	return at
}

// tcDrop drops every frame arriving on name in ns while carrier stays up:
// tc matchall with a drop action where the kernel has them, else a classic
// BPF filter returning TC_ACT_SHOT in direct-action mode (cls_bpf, no action
// module needed). It returns a function removing the filter.
func tcDrop(t *testing.T, ns netns.NsHandle, name string) (undo func()) {
	t.Helper()
	tc := func(args ...string) error {
		out, err := testutil.Exec(ns, "tc", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("tc %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := tc("qdisc", "add", "dev", name, "clsact"); err != nil {
		t.Fatal(err)
	}
	undo = func() {
		if err := tc("qdisc", "del", "dev", name, "clsact"); err != nil {
			t.Fatal(err)
		}
	}
	err := tc("filter", "add", "dev", name, "ingress", "matchall", "action", "drop")
	if err != nil {
		if err2 := tc("filter", "add", "dev", name, "ingress", "protocol", "all", "bpf", "da", "bytecode", "1,6 0 0 2"); err2 != nil {
			t.Fatalf("%v; %v", err, err2)
		}
	}
	return undo
}
