//go:build linux

// Command linkhealth compares how fast ocf:hanet:linkhealth and
// ocf:heartbeat:ethmonitor tell attrd that a link lost carrier, and what a
// monitor call costs each, side by side in one run. It prints Markdown.
//
// Run as root (it builds network namespaces and deletes them; the host's
// interfaces are not touched):
//
//	go run ./tests/bench/linkhealth                 # build the agent from source
//	HANET_BIN=$PWD/bin go run ./tests/bench/linkhealth
//	go run ./tests/bench/linkhealth -runs 10 -default-runs 3
//
// # The world
//
// A node namespace with lh0 and a peer namespace with lh0p, a veth pair;
// 192.0.2.10/24 and 192.0.2.1/24. lh0 gets interface index 100 so that its
// index differs from its peer's: the kernel then reports a carrier change
// at once ("urgent", as for bond slaves, bonds and VLANs) instead of through
// linkwatch's once-a-second batch, which other processes' link changes on
// the host would otherwise stretch. Every agent runs in the node namespace
// with the same attrd_updater test double on PATH, which appends its
// arguments and bash's $EPOCHREALTIME to a log. Carrier loss is setting
// lh0p down; its time is taken just before the netlink call.
//
// # Method
//
// linkhealth: started once (defaults, recover_count=2 so that the link
// recovers quickly between runs); per run, latency = time of the
// attrd_updater call publishing 0 − carrier loss. The link is restored and
// the value back at 1 before the next run.
//
// ethmonitor: it only looks at the link when Pacemaker calls its monitor,
// by default every 10 s, and the monitor itself takes time to decide
// (repeat_count × repeat_interval). Each run loses carrier and at once
// calls monitor, measuring D = attrd_updater call publishing 0 − carrier
// loss: the monitor's own reporting time. The wait for the next recurring
// monitor is W, uniform on [0, 10 s) for a loss at a random moment;
// run i of n adds W = 10 s × (i + ½)/n (stratified, so n runs span the
// distribution evenly). Reported latency = W + D; the D column shows the
// monitor's share. Runs: -runs for repeat_count=1, -default-runs (3 by
// default: each takes ~40 s) for the defaults (repeat_count=5,
// repeat_interval=10). Between runs the link is restored and a monitor
// republishes 1. A pinger in the peer namespace (10 packets/s) keeps the
// RX counter moving, as on a live network, so ethmonitor's up-link checks
// take the fast path.
//
// CPU: -cpu-runs monitor calls of each agent with the link up; wall and
// user+system CPU of the agent process and everything it waited for
// (wait4's rusage). linkhealth's work happens in its watcher, so its CPU
// per second of watching is reported too.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/pkg/testutil"
)

const (
	ethmonitorPath  = "/usr/lib/ocf/resource.d/heartbeat/ethmonitor"
	monitorInterval = 10 * time.Second // Pacemaker's default recurring monitor
)

var (
	runs        = flag.Int("runs", 10, "runs for linkhealth and for ethmonitor repeat_count=1")
	defaultRuns = flag.Int("default-runs", 3, "runs for ethmonitor with its defaults (each ~40 s)")
	cpuRuns     = flag.Int("cpu-runs", 10, "monitor calls per agent for the CPU figures")
	keep        = flag.Bool("keep", false, "keep the scratch directory")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench holds the world.
type bench struct {
	dir      string // scratch: binary, double, logs, state
	bin      string
	node     netns.NsHandle
	peer     netns.NsHandle
	hNode    *netlink.Handle
	hPeer    *netlink.Handle
	pinger   *testutil.Cmd
	cleanups []func()
}

func run() error {
	if os.Geteuid() != 0 {
		return errors.New("run as root: the bench builds network namespaces")
	}
	if _, err := os.Stat(ethmonitorPath); err != nil {
		return fmt.Errorf("ethmonitor: %w (install resource-agents)", err)
	}
	b := &bench{}
	defer b.close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		b.close()
		os.Exit(130)
	}()
	if err := b.setup(); err != nil {
		return err
	}
	began := time.Now()

	lh, lhWatcherCPU, err := b.linkhealthRuns(*runs)
	if err != nil {
		return fmt.Errorf("linkhealth: %w", err)
	}
	fmt.Fprintf(os.Stderr, "linkhealth: %d runs done after %v\n", len(lh.total), time.Since(began).Round(time.Second))
	em1, err := b.ethmonitorRuns("ethmonitor repeat_count=1", *runs, map[string]string{"repeat_count": "1"})
	if err != nil {
		return fmt.Errorf("ethmonitor repeat_count=1: %w", err)
	}
	fmt.Fprintf(os.Stderr, "ethmonitor repeat_count=1: done after %v\n", time.Since(began).Round(time.Second))
	emd, err := b.ethmonitorRuns("ethmonitor defaults", *defaultRuns, nil)
	if err != nil {
		return fmt.Errorf("ethmonitor defaults: %w", err)
	}
	fmt.Fprintf(os.Stderr, "ethmonitor defaults: done after %v\n", time.Since(began).Round(time.Second))
	cpu, err := b.cpuRuns(*cpuRuns)
	if err != nil {
		return fmt.Errorf("cpu: %w", err)
	}

	fmt.Printf("## Carrier loss → attrd_updater call (%s, %d CPUs, %s)\n\n", time.Now().Format("2006-01-02 15:04"), runtime.NumCPU(), kernel())
	fmt.Println("| agent | runs | median | p10 | p90 | of which monitor's own time (median) |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, s := range []series{lh, em1, emd} {
		own := "—"
		if s.own != nil {
			own = fmtDur(percentile(s.own, 50))
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", s.name, len(s.total),
			fmtDur(percentile(s.total, 50)), fmtDur(percentile(s.total, 10)), fmtDur(percentile(s.total, 90)), own)
	}
	fmt.Printf("\nlinkhealth is event-driven: the time is netlink event → attrd_updater exec. ethmonitor: latency = W + D, " +
		"W = wait for the next recurring monitor (interval 10 s, stratified uniform over [0, 10 s)), " +
		"D = that monitor's own time from carrier loss to its attrd_updater call (measured). " +
		"The defaults case has fewer runs because each takes ~40 s. Percentiles interpolate linearly.\n\n")
	fmt.Println("## Cost of one monitor call, link up")
	fmt.Println()
	fmt.Println("| agent | calls | wall median | CPU median (user+sys) | background |")
	fmt.Println("|---|---:|---:|---:|---|")
	for _, c := range cpu {
		fmt.Printf("| %s | %d | %s | %s | %s |\n", c.name, len(c.wall), fmtDur(percentile(c.wall, 50)), fmtDur(percentile(c.cpu, 50)), c.background)
	}
	fmt.Printf("\nlinkhealth watcher (defaults: probe_interval 1s, no arp_targets): %s CPU per minute of watching.\n", lhWatcherCPU)
	fmt.Printf("Bench wall time: %v.\n", time.Since(began).Round(time.Second))
	return nil
}

// series is one agent configuration's latencies.
type series struct {
	name  string
	total []time.Duration
	own   []time.Duration // ethmonitor: the monitor's own time D
}

func (b *bench) setup() error {
	var err error
	if b.dir, err = os.MkdirTemp("", "hanet-bench-linkhealth-"); err != nil {
		return err
	}
	if err := os.Chmod(b.dir, 0o755); err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, func() {
		if *keep {
			fmt.Fprintln(os.Stderr, "scratch kept in", b.dir)
			return
		}
		os.RemoveAll(b.dir)
	})
	if d := os.Getenv("HANET_BIN"); d != "" {
		b.bin = filepath.Join(d, "linkhealth")
	} else {
		b.bin = filepath.Join(b.dir, "linkhealth")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", b.bin, "github.com/hanet/hanet/cmd/linkhealth")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build linkhealth: %v\n%s", err, out)
		}
	}
	double := fmt.Sprintf("#!/bin/bash\nprintf '%%s %%s\\n' \"$EPOCHREALTIME\" \"$*\" >> '%s/attrd.log'\nexit 0\n", b.dir)
	if err := os.WriteFile(filepath.Join(b.dir, "attrd_updater"), []byte(double), 0o755); err != nil {
		return err
	}
	for _, d := range []string{"state-lh", "state-em"} {
		if err := os.Mkdir(filepath.Join(b.dir, d), 0o755); err != nil {
			return err
		}
	}

	if b.node, err = newNS(); err != nil {
		return err
	}
	if b.peer, err = newNS(); err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, func() { b.node.Close(); b.peer.Close() })
	if b.hNode, err = netlink.NewHandleAt(b.node, unix.NETLINK_ROUTE); err != nil {
		return err
	}
	if b.hPeer, err = netlink.NewHandleAt(b.peer, unix.NETLINK_ROUTE); err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, func() { b.hNode.Close(); b.hPeer.Close() })
	for _, h := range []*netlink.Handle{b.hNode, b.hPeer} {
		lo, err := h.LinkByName("lo")
		if err == nil {
			err = h.LinkSetUp(lo)
		}
		if err != nil {
			return fmt.Errorf("lo: %w", err)
		}
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.Index = "lh0", 100
	if err := b.hNode.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "lh0p", PeerNamespace: netlink.NsFd(int(b.peer))}); err != nil {
		return fmt.Errorf("veth: %w", err)
	}
	for _, x := range []struct {
		h    *netlink.Handle
		name string
		cidr string
	}{{b.hNode, "lh0", "192.0.2.10/24"}, {b.hPeer, "lh0p", "192.0.2.1/24"}} {
		l, err := x.h.LinkByName(x.name)
		if err != nil {
			return err
		}
		a, _ := netlink.ParseAddr(x.cidr)
		if err := x.h.AddrAdd(l, a); err != nil {
			return err
		}
		if err := x.h.LinkSetUp(l); err != nil {
			return err
		}
	}
	if err := b.waitOper(true); err != nil {
		return err
	}
	b.pinger = testutil.Exec(b.peer, "ping", "-q", "-i", "0.1", "192.0.2.10")
	if err := b.pinger.Start(); err != nil {
		return fmt.Errorf("pinger: %w", err)
	}
	b.cleanups = append(b.cleanups, func() { _ = b.pinger.Process.Kill(); _ = b.pinger.Wait() })
	return nil
}

func (b *bench) close() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
}

// newNS creates an anonymous network namespace from a throw-away locked
// thread, so the calling goroutine never moves.
func newNS() (netns.NsHandle, error) {
	type res struct {
		ns  netns.NsHandle
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := netns.New()
		ch <- res{ns, err}
	}()
	r := <-ch
	return r.ns, r.err
}

// waitOper waits until lh0 (node side) is oper-up with carrier, or down.
func (b *bench) waitOper(up bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := b.hNode.LinkByName("lh0")
		if err != nil {
			return err
		}
		isUp := l.Attrs().OperState == netlink.OperUp && l.Attrs().RawFlags&unix.IFF_LOWER_UP != 0
		if isUp == up {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lh0 still %s", l.Attrs().OperState)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// setPeer sets lh0p up or down and returns the time just before.
func (b *bench) setPeer(up bool) (time.Time, error) {
	l, err := b.hPeer.LinkByName("lh0p")
	if err != nil {
		return time.Time{}, err
	}
	at := time.Now()
	if up {
		err = b.hPeer.LinkSetUp(l)
	} else {
		err = b.hPeer.LinkSetDown(l)
	}
	return at, err
}

// agent runs prog with action in the node namespace, returning wall time
// and CPU (user+sys of it and everything it waited for).
func (b *bench) agent(prog, action, state string, params map[string]string) (wall, cpu time.Duration, out string, code int, err error) {
	cmd := testutil.Exec(b.node, prog, action)
	cmd.Env = []string{
		"PATH=" + b.dir + ":/usr/sbin:/usr/bin:/sbin:/bin",
		"OCF_ROOT=/usr/lib/ocf",
		"HA_RSCTMP=" + filepath.Join(b.dir, state),
		"OCF_RESOURCE_INSTANCE=bench",
		"OCF_RESKEY_CRM_meta_timeout=120000",
		"OCF_RESKEY_CRM_meta_interval=10000",
	}
	for k, v := range params {
		cmd.Env = append(cmd.Env, "OCF_RESKEY_"+k+"="+v)
	}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code, err = ee.ExitCode(), nil
	}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return wall, cpu, buf.String(), code, err
}

// call is one logged attrd_updater call.
type call struct {
	at    time.Time
	name  string
	value string // -B or -v value; "" for others
}

func (b *bench) calls() ([]call, error) {
	f, err := os.Open(filepath.Join(b.dir, "attrd.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cs []call
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		ts, err := strconv.ParseFloat(fs[0], 64)
		if err != nil {
			return nil, err
		}
		sec := int64(ts)
		c := call{at: time.Unix(sec, int64(math.Round((ts-float64(sec))*1e6))*1000)}
		for i := 1; i+1 < len(fs); i++ {
			switch fs[i] {
			case "-n":
				c.name = fs[i+1]
			case "-B", "-v":
				c.value = fs[i+1]
			}
		}
		cs = append(cs, c)
	}
	return cs, sc.Err()
}

// waitCall waits for attribute name to be set to value after since.
func (b *bench) waitCall(name, value string, since time.Time, timeout time.Duration) (call, error) {
	deadline := time.Now().Add(timeout)
	for {
		cs, err := b.calls()
		if err != nil {
			return call{}, err
		}
		for _, c := range cs {
			if c.name == name && c.value == value && !c.at.Before(since) {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			return call{}, fmt.Errorf("%s=%s not published within %v", name, value, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// linkhealthRuns measures linkhealth and returns its series and the
// watcher's CPU per minute.
func (b *bench) linkhealthRuns(n int) (series, string, error) {
	s := series{name: "linkhealth (defaults, recover_count=2)"}
	params := map[string]string{"interfaces": "lh0", "recover_count": "2"}
	const attr = "linkhealth-lh0"
	if _, _, out, code, err := b.agent(b.bin, "start", "state-lh", params); err != nil || code != 0 {
		return s, "", fmt.Errorf("start = %d %v: %s", code, err, out)
	}
	stop := func() { _, _, _, _, _ = b.agent(b.bin, "stop", "state-lh", params) }
	defer stop()
	pid := watcherPid(filepath.Join(b.dir, "state-lh"))
	for i := range n {
		down, err := b.setPeer(false)
		if err != nil {
			return s, "", err
		}
		c, err := b.waitCall(attr, "0", down, 5*time.Second)
		if err != nil {
			return s, "", fmt.Errorf("run %d: %w", i, err)
		}
		s.total = append(s.total, c.at.Sub(down))
		up, err := b.setPeer(true)
		if err != nil {
			return s, "", err
		}
		if _, err := b.waitCall(attr, "1", up, 10*time.Second); err != nil {
			return s, "", fmt.Errorf("run %d recovery: %w", i, err)
		}
	}
	// Idle watching, for its CPU: a few seconds without changes.
	cpu0, idle := procCPU(pid), time.Now()
	time.Sleep(5 * time.Second)
	cpu := procCPU(pid) - cpu0
	perMin := time.Duration(float64(cpu) / time.Since(idle).Minutes())
	return s, fmtDur(perMin), nil
}

// ethmonitorRuns measures ethmonitor with params (see the package comment).
func (b *bench) ethmonitorRuns(name string, n int, params map[string]string) (series, error) {
	s := series{name: name}
	p := map[string]string{"interface": "lh0"}
	for k, v := range params {
		p[k] = v
	}
	const attr = "ethmonitor-lh0"
	if _, _, out, code, err := b.agent(ethmonitorPath, "start", "state-em", p); err != nil || code != 0 {
		return s, fmt.Errorf("start = %d %v: %s", code, err, out)
	}
	defer func() { _, _, _, _, _ = b.agent(ethmonitorPath, "stop", "state-em", p) }()
	for i := range n {
		down, err := b.setPeer(false)
		if err != nil {
			return s, err
		}
		if _, _, out, code, err := b.agent(ethmonitorPath, "monitor", "state-em", p); err != nil || code != 0 {
			return s, fmt.Errorf("run %d: monitor = %d %v: %s", i, code, err, out)
		}
		c, err := b.waitCall(attr, "0", down, time.Second)
		if err != nil {
			return s, fmt.Errorf("run %d: %w", i, err)
		}
		d := c.at.Sub(down)
		w := time.Duration(float64(monitorInterval) * (float64(i) + 0.5) / float64(n))
		s.own = append(s.own, d)
		s.total = append(s.total, w+d)
		fmt.Fprintf(os.Stderr, "  %s run %d: D=%s W=%s\n", name, i+1, fmtDur(d), fmtDur(w))
		if _, err := b.setPeer(true); err != nil {
			return s, err
		}
		if err := b.waitOper(true); err != nil {
			return s, err
		}
		up := time.Now()
		if _, _, out, code, err := b.agent(ethmonitorPath, "monitor", "state-em", p); err != nil || code != 0 {
			return s, fmt.Errorf("run %d: monitor after restore = %d %v: %s", i, code, err, out)
		}
		if _, err := b.waitCall(attr, "1", up, time.Second); err != nil {
			return s, fmt.Errorf("run %d restore: %w", i, err)
		}
	}
	return s, nil
}

// cpuStats is one agent's monitor cost.
type cpuStats struct {
	name       string
	wall, cpu  []time.Duration
	background string
}

func (b *bench) cpuRuns(n int) ([]cpuStats, error) {
	lhParams := map[string]string{"interfaces": "lh0"}
	emParams := map[string]string{"interface": "lh0"}
	var out []cpuStats
	for _, a := range []struct {
		name, prog, state string
		params            map[string]string
		background        string
	}{
		{"linkhealth", b.bin, "state-lh", lhParams, "watcher (see below)"},
		{"ethmonitor (defaults, traffic on the link)", ethmonitorPath, "state-em", emParams, "none"},
	} {
		if _, _, o, code, err := b.agent(a.prog, "start", a.state, a.params); err != nil || code != 0 {
			return nil, fmt.Errorf("%s start = %d %v: %s", a.name, code, err, o)
		}
		st := cpuStats{name: a.name, background: a.background}
		for range n {
			wall, cpu, o, code, err := b.agent(a.prog, "monitor", a.state, a.params)
			if err != nil || code != 0 {
				return nil, fmt.Errorf("%s monitor = %d %v: %s", a.name, code, err, o)
			}
			st.wall, st.cpu = append(st.wall, wall), append(st.cpu, cpu)
		}
		if _, _, o, code, err := b.agent(a.prog, "stop", a.state, a.params); err != nil || code != 0 {
			return nil, fmt.Errorf("%s stop = %d %v: %s", a.name, code, err, o)
		}
		out = append(out, st)
	}
	return out, nil
}

// watcherPid reads the pid linkhealth's start recorded in dir.
func watcherPid(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "hanet-linkhealth-bench.pid"))
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte(`"pid":`))
	if i < 0 {
		return 0
	}
	f := strings.FieldsFunc(string(b[i+6:]), func(r rune) bool { return r == ',' || r == '}' || r == ' ' || r == '\n' })
	if len(f) == 0 {
		return 0
	}
	pid, _ := strconv.Atoi(f[0])
	return pid
}

// procCPU returns the CPU time pid's threads have used, from
// /proc/<pid>/task/*/schedstat (nanoseconds on the CPU). Threads that
// exited meanwhile are not counted; a Go program keeps its threads.
func procCPU(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// percentile interpolates linearly between the closest ranks.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	frac := pos - float64(lo)
	return s[lo] + time.Duration(frac*float64(s[hi]-s[lo]))
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func kernel() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "linux"
	}
	return "Linux " + unix.ByteSliceToString(u.Release[:])
}
