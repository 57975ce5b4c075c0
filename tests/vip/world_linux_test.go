package vip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/pkg/testutil"
)

// agentBin is the vip binary under test, in a directory every user can
// read and search (ocf-tester runs meta-data as nobody).
var agentBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("", "hanet-vip-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		agentBin = filepath.Join(dir, "vip")
		if err := installAgent(agentBin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// installAgent copies $HANET_BIN/vip to path, or builds it there
// (CGO_ENABLED=0, as released) when HANET_BIN is unset.
func installAgent(path string) error {
	if dir := os.Getenv("HANET_BIN"); dir != "" {
		src, err := os.Open(filepath.Join(dir, "vip"))
		if err != nil {
			return fmt.Errorf("HANET_BIN: %w", err)
		}
		defer src.Close()
		dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return err
		}
		return dst.Close()
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", path, "github.com/hanet/hanet/cmd/vip")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build vip: %v\n%s", err, out)
	}
	return os.Chmod(path, 0o755)
}

// Addresses of the test world (RFC 5737 and RFC 3849 documentation ranges).
const (
	nic      = "lan0"  // the agent's interface
	peerNIC  = "peer0" // its veth peer, in the peer namespace
	baseV4   = "192.0.2.1/24"
	peerV4   = "192.0.2.2/24"
	baseV6   = "2001:db8:1::1/64"
	peerV6   = "2001:db8:1::2/64"
	vip4     = "192.0.2.100"
	vip6     = "2001:db8:1::100"
	wrongMAC = "02:00:00:00:00:01"
)

// A world is the agent's namespace joined by a veth pair to a peer
// namespace, each with a base address, and a state directory.
type world struct {
	t        *testing.T
	ns, peer netns.NsHandle
	mac      net.HardwareAddr // of lan0
	state    string           // HA_RSCTMP
}

// newWorld builds a world. IPv6 duplicate address detection is off for
// the interfaces created (their link-local addresses are final at once, so
// address dumps are stable); fastDAD turns it on for lan0 with a 100 ms
// probe and no initial delay.
func newWorld(t *testing.T) *world {
	t.Helper()
	testutil.SkipUnlessRoot(t)
	w := &world{t: t, ns: testutil.NewNS(t), peer: testutil.NewNS(t), state: t.TempDir()}
	for _, ns := range []netns.NsHandle{w.ns, w.peer} {
		testutil.Sysctl(t, ns, "net.ipv6.conf.default.accept_dad", "0")
	}
	a, _ := testutil.Veth(t, w.ns, nic, w.peer, peerNIC)
	w.mac = a.Attrs().HardwareAddr
	testutil.AddAddr(t, w.ns, nic, baseV4)
	testutil.AddAddr(t, w.ns, nic, baseV6)
	testutil.AddAddr(t, w.peer, peerNIC, peerV4)
	testutil.AddAddr(t, w.peer, peerNIC, peerV6)
	t.Cleanup(w.killHelpers)
	if !w.settle(3 * time.Second) {
		t.Fatalf("addresses of %s still tentative", nic)
	}
	return w
}

// settle waits until no address in the agent namespace is tentative (the
// kernel ends DAD, or skips it, from a work queue, so a loaded machine
// shows link-local addresses tentative for a moment), and reports whether
// that happened within timeout.
func (w *world) settle(timeout time.Duration) bool {
	w.t.Helper()
	h := testutil.Handle(w.t, w.ns)
	return waitFor(timeout, func() bool {
		addrs, err := h.AddrList(nil, netlink.FAMILY_V6)
		if err != nil {
			w.t.Fatalf("list addresses: %v", err)
		}
		for _, a := range addrs {
			if a.Flags&unix.IFA_F_TENTATIVE != 0 {
				return false
			}
		}
		return true
	})
}

// fastDAD enables duplicate address detection on lan0, shortened to one
// 100 ms probe without the random initial delay.
func (w *world) fastDAD() {
	testutil.Sysctl(w.t, w.ns, "net.ipv6.conf."+nic+".accept_dad", "1")
	testutil.Sysctl(w.t, w.ns, "net.ipv6.conf."+nic+".router_solicitation_delay", "0")
	testutil.Sysctl(w.t, w.ns, "net.ipv6.neigh."+nic+".retrans_time_ms", "100")
}

// killHelpers kills background announcers still running from this world's
// state directory, so no test leaves processes behind.
func (w *world) killHelpers() {
	matches, _ := filepath.Glob(filepath.Join(w.state, "*.garp.pid"))
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(string(data), &pid); err == nil && pid > 1 {
			if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(cmd, []byte("__garp")) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// A run is one finished agent action.
type run struct {
	code           int
	stdout, stderr string
	start, end     time.Time
	user, sys      time.Duration
}

func (r run) wall() time.Duration { return r.end.Sub(r.start) }

// reason is the last ocf-exit-reason line's text.
func (r run) reason() string {
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if s, ok := strings.CutPrefix(lines[i], "ocf-exit-reason:"); ok {
			return s
		}
	}
	return ""
}

func (r run) String() string {
	return fmt.Sprintf("rc=%d in %v, stderr:\n%s", r.code, r.wall().Round(time.Millisecond), r.stderr)
}

// environ turns k=v pairs into the agent's environment: names starting
// with OCF_ or HA_ are taken as they are, others become OCF_RESKEY_<k>.
func (w *world) environ(kv []string) []string {
	env := []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"OCF_ROOT=/usr/lib/ocf",
		"HA_RSCTMP=" + w.state,
		"OCF_RESOURCE_INSTANCE=test-vip",
		"OCF_RESKEY_CRM_meta_timeout=10000",
	}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		if !strings.HasPrefix(k, "OCF_") && !strings.HasPrefix(k, "HA_") {
			k = "OCF_RESKEY_" + k
		}
		env = append(env, k+"="+v)
	}
	return env
}

// command prepares the agent for action inside the agent namespace.
func (w *world) command(action string, kv ...string) (*testutil.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := testutil.Exec(w.ns, agentBin, action)
	cmd.Env = w.environ(kv)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// agent runs the agent's action with parameters kv and returns the result.
func (w *world) agent(action string, kv ...string) run {
	w.t.Helper()
	cmd, stdout, stderr := w.command(action, kv...)
	r := run{start: time.Now()}
	err := cmd.Run()
	r.end = time.Now()
	return w.finish(r, cmd, err, stdout, stderr)
}

func (w *world) finish(r run, cmd *testutil.Cmd, err error, stdout, stderr *bytes.Buffer) run {
	w.t.Helper()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		w.t.Fatalf("run vip: %v", err)
	}
	if cmd.ProcessState != nil {
		r.user, r.sys = cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime()
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	return r
}

// must runs action and fails the test unless it exits with want.
func (w *world) must(want int, action string, kv ...string) run {
	w.t.Helper()
	r := w.agent(action, kv...)
	if r.code != want {
		w.t.Fatalf("vip %s %v: %v\nwant rc=%d", action, kv, r, want)
	}
	return r
}

// An addr is an address found in a namespace.
type addr struct {
	nic    string
	prefix int
	label  string
	flags  int
	brd    netip.Addr
}

// find looks for ip in ns; ok is false when it is absent.
func find(t *testing.T, ns netns.NsHandle, ip string) (addr, bool) {
	t.Helper()
	want := netip.MustParseAddr(ip)
	h := testutil.Handle(t, ns)
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatalf("list addresses: %v", err)
	}
	for _, a := range addrs {
		got, _ := netip.AddrFromSlice(a.IP)
		if got.Unmap() != want {
			continue
		}
		l, err := h.LinkByIndex(a.LinkIndex)
		if err != nil {
			t.Fatalf("link #%d: %v", a.LinkIndex, err)
		}
		ones, _ := a.Mask.Size()
		brd, _ := netip.AddrFromSlice(a.Broadcast)
		return addr{nic: l.Attrs().Name, prefix: ones, label: a.Label, flags: a.Flags, brd: brd.Unmap()}, true
	}
	return addr{}, false
}

// has fails the test unless ip is on dev with prefix in the agent namespace.
func (w *world) has(ip, dev string, prefix int) addr {
	w.t.Helper()
	a, ok := find(w.t, w.ns, ip)
	switch {
	case !ok:
		w.t.Fatalf("%s is not configured, want it on %s/%d", ip, dev, prefix)
	case a.nic != dev || a.prefix != prefix:
		w.t.Fatalf("%s is on %s/%d, want %s/%d", ip, a.nic, a.prefix, dev, prefix)
	}
	return a
}

// hasNot fails the test when ip is configured in the agent namespace.
func (w *world) hasNot(ip string) {
	w.t.Helper()
	if a, ok := find(w.t, w.ns, ip); ok {
		w.t.Fatalf("%s is still configured on %s/%d", ip, a.nic, a.prefix)
	}
}

// dump is the agent namespace's links, addresses and routes as ip(8)
// shows them, to compare before and after an action that must change
// nothing.
func (w *world) dump() string {
	w.t.Helper()
	w.settle(500 * time.Millisecond)
	var b strings.Builder
	for _, args := range [][]string{
		{"-o", "link", "show"},
		{"-o", "addr", "show"},
		{"route", "show", "table", "all"},
		{"-6", "route", "show", "table", "all"},
	} {
		out, err := testutil.Exec(w.ns, "ip", args...).CombinedOutput()
		if err != nil {
			w.t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
		b.Write(out)
	}
	return b.String()
}

// stableDump is dump once the namespace has stopped changing (two dumps
// 100 ms apart agree): the kernel reworks IPv6 routes for a while after a
// carrier change.
func (w *world) stableDump() string {
	w.t.Helper()
	prev := w.dump()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		cur := w.dump()
		if cur == prev {
			return cur
		}
		prev = cur
	}
	w.t.Fatalf("the namespace keeps changing:\n%s", prev)
	return ""
}

// stateFiles lists the state directory, lock files aside (they stay by
// design).
func (w *world) stateFiles() []string {
	w.t.Helper()
	entries, err := os.ReadDir(w.state)
	if err != nil {
		w.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			names = append(names, e.Name())
		}
	}
	return names
}

// neigh returns the MAC of ip in the peer namespace's neighbour table, nil
// when there is no entry.
func (w *world) peerNeigh(ip string) net.HardwareAddr {
	w.t.Helper()
	want := netip.MustParseAddr(ip)
	fam := netlink.FAMILY_V4
	if want.Is6() {
		fam = netlink.FAMILY_V6
	}
	neighs, err := testutil.Handle(w.t, w.peer).NeighList(0, fam)
	if err != nil {
		w.t.Fatalf("list neighbours: %v", err)
	}
	for _, n := range neighs {
		if got, _ := netip.AddrFromSlice(n.IP); got.Unmap() == want {
			return n.HardwareAddr
		}
	}
	return nil
}

// setPeerNeigh plants a stale neighbour entry for ip with mac on the peer.
func (w *world) setPeerNeigh(ip, mac string) {
	w.t.Helper()
	hw, _ := net.ParseMAC(mac)
	l := testutil.Link(w.t, w.peer, peerNIC)
	fam := netlink.FAMILY_V4
	if netip.MustParseAddr(ip).Is6() {
		fam = netlink.FAMILY_V6
	}
	n := &netlink.Neigh{LinkIndex: l.Attrs().Index, Family: fam, State: netlink.NUD_STALE,
		IP: net.ParseIP(ip), HardwareAddr: hw}
	if err := testutil.Handle(w.t, w.peer).NeighSet(n); err != nil {
		w.t.Fatalf("set neighbour %s: %v", ip, err)
	}
}

// An arpFrame is a parsed ARP frame.
type arpFrame struct {
	at       time.Time
	ethDst   net.HardwareAddr
	ethSrc   net.HardwareAddr
	op       int
	sha, tha net.HardwareAddr
	spa, tpa netip.Addr
}

func parseARP(f testutil.Frame) (arpFrame, bool) {
	b := f.Data
	if len(b) < 42 || binary.BigEndian.Uint16(b[12:14]) != unix.ETH_P_ARP {
		return arpFrame{}, false
	}
	p := b[14:]
	if binary.BigEndian.Uint16(p[0:2]) != 1 || binary.BigEndian.Uint16(p[2:4]) != 0x0800 || p[4] != 6 || p[5] != 4 {
		return arpFrame{}, false
	}
	spa, _ := netip.AddrFromSlice(p[14:18])
	tpa, _ := netip.AddrFromSlice(p[24:28])
	return arpFrame{
		at:     f.Time,
		ethDst: net.HardwareAddr(b[0:6]),
		ethSrc: net.HardwareAddr(b[6:12]),
		op:     int(binary.BigEndian.Uint16(p[6:8])),
		sha:    net.HardwareAddr(p[8:14]),
		spa:    spa,
		tha:    net.HardwareAddr(p[18:24]),
		tpa:    tpa,
	}, true
}

// garps returns the gratuitous ARP frames for ip among frames.
func garps(frames []testutil.Frame, ip string) []arpFrame {
	want := netip.MustParseAddr(ip)
	var out []arpFrame
	for _, f := range frames {
		if a, ok := parseARP(f); ok && a.spa == want && a.tpa == want {
			out = append(out, a)
		}
	}
	return out
}

// An naFrame is a parsed Neighbor Advertisement.
type naFrame struct {
	at       time.Time
	ethDst   net.HardwareAddr
	src, dst netip.Addr
	hopLimit int
	flags    byte // R 0x80, S 0x40, O 0x20
	target   netip.Addr
	tll      net.HardwareAddr // target link-layer address option
}

func parseNA(f testutil.Frame) (naFrame, bool) {
	b := f.Data
	if len(b) < 14+40+24 || binary.BigEndian.Uint16(b[12:14]) != unix.ETH_P_IPV6 {
		return naFrame{}, false
	}
	ip := b[14:]
	icmp := ip[40:]
	if ip[6] != unix.IPPROTO_ICMPV6 || icmp[0] != 136 {
		return naFrame{}, false
	}
	src, _ := netip.AddrFromSlice(ip[8:24])
	dst, _ := netip.AddrFromSlice(ip[24:40])
	target, _ := netip.AddrFromSlice(icmp[8:24])
	na := naFrame{at: f.Time, ethDst: net.HardwareAddr(b[0:6]), src: src, dst: dst,
		hopLimit: int(ip[7]), flags: icmp[4], target: target}
	for opts := icmp[24:]; len(opts) >= 8 && opts[1] > 0 && len(opts) >= int(opts[1])*8; opts = opts[int(opts[1])*8:] {
		if opts[0] == 2 {
			na.tll = net.HardwareAddr(opts[2:8])
		}
	}
	return na, true
}

// nas returns the Neighbor Advertisements for target among frames.
func nas(frames []testutil.Frame, target string) []naFrame {
	want := netip.MustParseAddr(target)
	var out []naFrame
	for _, f := range frames {
		if na, ok := parseNA(f); ok && na.target == want {
			out = append(out, na)
		}
	}
	return out
}

// waitFor polls cond every 5 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// processGone reports whether no process with pid runs (zombies count as
// gone).
func processGone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X')
}
