//go:build linux

// Command linkhealth compares how fast ocf:hanet:linkhealth,
// ocf:heartbeat:ethmonitor and ocf:pacemaker:ping tell attrd that a link
// lost carrier, and what a monitor call costs each, side by side in one
// run. It prints Markdown and, with BENCH_OUT set, writes its samples and
// verdicts to $BENCH_OUT/linkhealth.json for tests/bench/report.
//
// Run as root (it builds network namespaces and deletes them; the host's
// interfaces are not touched):
//
//	go run ./tests/bench/linkhealth                 # build the agent from source
//	HANET_BIN=$PWD/bin go run ./tests/bench/linkhealth
//	go run ./tests/bench/linkhealth -runs 5 -default-runs 1 -cpu-runs 5
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
// lh0p down; its time is taken just before the netlink call. A pinger in
// the peer namespace (10 packets/s) keeps the RX counter moving, as on a
// live network, so ethmonitor's up-link checks take their fast path.
//
// # Method
//
// linkhealth (defaults, recover_count=2 so that the link recovers quickly
// between runs) is started once: it watches netlink and publishes by
// itself. Latency = time of the attrd_updater call publishing 0 − carrier
// loss.
//
// ethmonitor and ping only look when Pacemaker calls their monitor, every
// 10 s by default, and the monitor itself takes time to decide. Each run
// loses carrier and at once calls monitor, measuring D = attrd_updater
// call publishing 0 − carrier loss: the monitor's own reporting time. The
// wait for the next recurring monitor is W, uniform on [0, 10 s) for a
// loss at a random moment; run i of n adds W = 10 s × (i + ½)/n
// (stratified, so n runs span the distribution evenly). Reported latency =
// W + D.
//
// Configurations: ethmonitor repeat_count=1 and ping timeout=1 attempts=1
// (the quickest each can be set to) run -runs times, interleaved run for run
// with linkhealth (the order rotates every round). ethmonitor's defaults
// (repeat_count=5, repeat_interval=10: ~40 s a run) and ping's defaults
// (attempts=3, timeout derived from the operation timeout: 60 s, its
// meta-data's, gives ping -W 18) run -default-runs times (3), spread over
// the rounds; both are monitored on the same carrier loss, concurrently,
// because each run is mostly sleeping. Between runs the link is restored and
// each agent republishes 1.
//
// CPU: -cpu-runs rounds of one monitor call per configuration with the link
// up, interleaved; wall and user+system CPU of the agent process and
// everything it waited for (wait4's rusage). linkhealth's work happens in
// its watcher, so its CPU per minute of idle watching is reported too. Peak
// RSS: /usr/bin/time (3 runs) for the one-shot actions, VmHWM for the
// watcher.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

const (
	ethmonitorPath  = "/usr/lib/ocf/resource.d/heartbeat/ethmonitor"
	pingPath        = "/usr/lib/ocf/resource.d/pacemaker/ping"
	monitorInterval = 10 * time.Second // Pacemaker's default recurring monitor
	targetMedian    = 100.0            // ms: linkhealth detection median
	targetRatio     = 10.0             // × faster than ethmonitor repeat_count=1
	rssLimit        = 15e6             // bytes
)

var (
	runs        = flag.Int("runs", 20, "runs of linkhealth, ethmonitor repeat_count=1 and ping timeout=1 attempts=1, interleaved")
	defaultRuns = flag.Int("default-runs", 3, "runs of ethmonitor's and ping's defaults (each ~40 s)")
	cpuRuns     = flag.Int("cpu-runs", 20, "monitor calls per configuration for the CPU figures")
	keep        = flag.Bool("keep", false, "keep the scratch directory")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "linkhealth bench:", err)
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
	cleanups []func()
}

// A config is one agent with one set of parameters.
type config struct {
	key, label string
	prog       string
	attr       string
	params     map[string]string
	timeout    string // CRM_meta_timeout, ms: the agent's advertised monitor timeout
	watcher    bool   // linkhealth: publishes by itself
	background string

	total, own []float64 // ms
	dampen     string    // the -d of its attrd_updater calls
	wall, cpu  []float64 // ms, monitor with the link up
	rss        []float64 // bytes, monitor
}

func run() error {
	if os.Geteuid() != 0 {
		return errors.New("run as root: the bench builds network namespaces")
	}
	for _, p := range []string{ethmonitorPath, pingPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (install resource-agents and pacemaker)", err)
		}
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

	lh := &config{key: "lh", label: "ocf:hanet:linkhealth (defaults, recover_count=2)", prog: b.bin, attr: "linkhealth-lh0",
		params: map[string]string{"interfaces": "lh0", "recover_count": "2"}, timeout: "20000", watcher: true,
		background: "watcher (see below)"}
	em1 := &config{key: "em1", label: "ocf:heartbeat:ethmonitor repeat_count=1", prog: ethmonitorPath, attr: "ethmonitor1-lh0",
		params: map[string]string{"interface": "lh0", "repeat_count": "1", "name": "ethmonitor1-lh0"}, timeout: "60000", background: "none"}
	ping1 := &config{key: "ping1", label: "ocf:pacemaker:ping timeout=1 attempts=1", prog: pingPath, attr: "ping1",
		params: map[string]string{"host_list": "192.0.2.1", "timeout": "1", "attempts": "1", "name": "ping1",
			"pidfile": filepath.Join(b.dir, "ping1.pid")}, timeout: "60000", background: "none"}
	emd := &config{key: "emd", label: "ocf:heartbeat:ethmonitor (defaults)", prog: ethmonitorPath, attr: "ethmonitor-lh0",
		params: map[string]string{"interface": "lh0"}, timeout: "60000", background: "none"}
	pingd := &config{key: "pingd", label: "ocf:pacemaker:ping (defaults, op timeout 60 s)", prog: pingPath, attr: "pingd",
		params: map[string]string{"host_list": "192.0.2.1", "pidfile": filepath.Join(b.dir, "pingd.pid")}, timeout: "60000", background: "none"}
	all := []*config{lh, em1, ping1, emd, pingd}

	for _, c := range all {
		if err := os.MkdirAll(b.state(c), 0o755); err != nil {
			return err
		}
		if r, err := b.agent(c, "start", false); err != nil || r.Code != 0 {
			return fmt.Errorf("%s start = %d %v: %s", c.label, r.Code, err, r.Output)
		}
	}
	defer func() {
		for _, c := range all {
			_, _ = b.agent(c, "stop", false)
		}
	}()
	pid := watcherPid(b.bin)
	if err := b.waitHealthy(all); err != nil {
		return fmt.Errorf("before the first run: %w", err)
	}

	// Detection rounds, the order rotating; the defaults runs spread over them.
	fast := []*config{lh, em1, ping1}
	nextDefault := 0
	for i := range *runs {
		for nextDefault < *defaultRuns && nextDefault*(*runs) <= i*(*defaultRuns) {
			if err := b.defaultsRun(emd, pingd, nextDefault); err != nil {
				return fmt.Errorf("defaults run %d: %w", nextDefault+1, err)
			}
			nextDefault++
		}
		for k := range fast {
			c := fast[(i+k)%len(fast)]
			var err error
			if c.watcher {
				err = b.watcherRun(c)
			} else {
				err = b.monitorRun(c, i, *runs)
			}
			if err != nil {
				return fmt.Errorf("%s run %d: %w", c.label, i+1, err)
			}
		}
		fmt.Fprintf(os.Stderr, "  round %d/%d: linkhealth %s, ethmonitor rc=1 %s (D %s), ping 1/1 %s (D %s)\n", i+1, *runs,
			benchkit.Ms(last(lh.total)), benchkit.Ms(last(em1.total)), benchkit.Ms(last(em1.own)),
			benchkit.Ms(last(ping1.total)), benchkit.Ms(last(ping1.own)))
	}
	for ; nextDefault < *defaultRuns; nextDefault++ {
		if err := b.defaultsRun(emd, pingd, nextDefault); err != nil {
			return fmt.Errorf("defaults run %d: %w", nextDefault+1, err)
		}
	}
	fmt.Fprintf(os.Stderr, "linkhealth bench: detection done after %v\n", time.Since(began).Round(time.Second))

	// Idle watching, for the watcher's CPU: a few seconds without changes.
	cpu0, idle := procCPU(pid), time.Now()
	time.Sleep(5 * time.Second)
	watcherPerMin := benchkit.DurMs(procCPU(pid)-cpu0) / time.Since(idle).Minutes()

	// Monitor cost, link up, interleaved.
	for i := range *cpuRuns {
		for k := range all {
			c := all[(i+k)%len(all)]
			r, err := b.agent(c, "monitor", true)
			if err != nil || r.Code != 0 {
				return fmt.Errorf("%s monitor = %d %v: %s", c.label, r.Code, err, r.Output)
			}
			c.wall, c.cpu = append(c.wall, benchkit.DurMs(r.Wall)), append(c.cpu, benchkit.DurMs(r.CPU))
		}
	}
	for range 3 {
		for _, c := range []*config{lh, em1, ping1} {
			kb, err := b.peakRSS(c, "monitor")
			if err != nil {
				return err
			}
			c.rss = append(c.rss, kb*1024)
		}
	}
	var lhStartRSS []float64
	for range 3 {
		if r, err := b.agent(lh, "stop", false); err != nil || r.Code != 0 {
			return fmt.Errorf("linkhealth stop = %d %v: %s", r.Code, err, r.Output)
		}
		kb, err := b.peakRSS(lh, "start")
		if err != nil {
			return err
		}
		lhStartRSS = append(lhStartRSS, kb*1024)
	}
	watcherRSS := vmHWM(watcherPid(b.bin))
	fmt.Fprintf(os.Stderr, "linkhealth bench: done after %v\n", time.Since(began).Round(time.Second))

	// Report.
	res := benchkit.Results{Bench: "linkhealth"}
	fmt.Printf("### Carrier loss → attribute update: linkhealth vs ethmonitor vs ping\n\n")
	fmt.Printf("%d rounds, each one run of linkhealth, ethmonitor repeat_count=1 and ping timeout=1 attempts=1, "+
		"the order rotating every round; %d runs of ethmonitor's and of ping's defaults spread over them "+
		"(each such run takes ~40 s, so only %d: their spread is that of W). Median (p10–p90), percentiles interpolated. "+
		"linkhealth is event-driven: netlink event → attrd_updater exec. ethmonitor and ping act at their recurring "+
		"monitor: latency = W + D, W = wait for the next monitor (interval 10 s, stratified uniform over [0, 10 s)), "+
		"D = that monitor's own time from carrier loss to its attrd_updater call (measured). All times end at the "+
		"start of the attrd_updater double (bash). attrd then holds a value for its dampen delay before the CIB changes.\n\n",
		*runs, *defaultRuns, *defaultRuns)
	fmt.Println("| agent (configuration) | runs | carrier loss → attrd_updater call | of which the monitor's own time D | vs linkhealth (medians) | attrd dampen asked |")
	fmt.Println("|---|---:|---|---|---:|---|")
	lhMed := benchkit.Median(lh.total)
	for _, c := range []*config{lh, em1, ping1, emd, pingd} {
		own, ratio := "— (event-driven)", "1×"
		if !c.watcher {
			own = benchkit.MsCell(c.own)
			ratio = fmt.Sprintf("%.0f×", benchkit.Median(c.total)/lhMed)
		}
		d := c.dampen
		if d == "" {
			d = "none"
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", c.label, len(c.total), benchkit.MsCell(c.total), own, ratio, d)
		res.Add("Carrier loss → attribute update call (ms, log)", shortLabel(c), "ms", true, c.total)
	}
	fmt.Println()
	fmt.Printf("### Cost of one monitor call, link up\n\n")
	fmt.Printf("%d rounds of one call per configuration, interleaved. CPU = user+sys of the agent and the children it "+
		"waited for. Peak RSS: largest process of the action, /usr/bin/time, 3 runs.\n\n", *cpuRuns)
	fmt.Println("| agent (configuration) | calls | wall | CPU (user+sys) | peak RSS | background |")
	fmt.Println("|---|---:|---|---|---|---|")
	for _, c := range all {
		rss := "–"
		if len(c.rss) > 0 {
			rss = fmt.Sprintf("%.1f MB", benchkit.Median(c.rss)/1e6)
		}
		fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", c.label, len(c.wall), benchkit.MsCell(c.wall), benchkit.MsCell(c.cpu), rss, c.background)
		res.Add("CPU per monitor call, link up (ms, log)", shortLabel(c), "ms", true, c.cpu)
	}
	fmt.Printf("\nlinkhealth watcher (defaults: probe_interval 1s, no arp_targets): %s CPU per minute of idle watching; "+
		"peak RSS (VmHWM) %.1f MB. linkhealth start: peak RSS %.1f MB (median of 3, the watcher excluded).\n\n",
		benchkit.Ms(watcherPerMin), watcherRSS/1e6, benchkit.Median(lhStartRSS)/1e6)

	emMed := benchkit.Median(em1.total)
	fmt.Println("Targets:")
	for _, v := range []benchkit.Verdict{
		res.Check("linkhealth detection median ≤ 100 ms", benchkit.Ms(lhMed), lhMed <= targetMedian),
		res.Check("linkhealth ≥ 10× faster than ethmonitor repeat_count=1 (medians)",
			fmt.Sprintf("%.0f× (%s vs %s)", emMed/lhMed, benchkit.Ms(emMed), benchkit.Ms(lhMed)), emMed/lhMed >= targetRatio),
		rssVerdict(&res, lh, lhStartRSS, watcherRSS),
	} {
		fmt.Println(v.Line())
	}
	fmt.Printf("\nBench wall time: %v.\n", time.Since(began).Round(time.Second))
	return res.Write()
}

func rssVerdict(res *benchkit.Results, lh *config, start []float64, watcher float64) benchkit.Verdict {
	peak := max(slicesMax(lh.rss), slicesMax(start), watcher)
	return res.Check("linkhealth peak RSS ≤ 15 MB (start, monitor, watcher)",
		fmt.Sprintf("%.1f MB (%.1f MiB)", peak/1e6, peak/(1<<20)), peak > 0 && peak <= rssLimit)
}

func slicesMax(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func shortLabel(c *config) string {
	switch c.key {
	case "lh":
		return "linkhealth"
	case "em1":
		return "ethmonitor rc=1"
	case "emd":
		return "ethmonitor defaults"
	case "ping1":
		return "ping 1×1 s"
	case "pingd":
		return "ping defaults"
	}
	return c.key
}

func last(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return v[len(v)-1]
}

func (b *bench) state(c *config) string { return filepath.Join(b.dir, "state-"+c.key) }

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

	if b.node, err = benchkit.NewNS(); err != nil {
		return err
	}
	if b.peer, err = benchkit.NewNS(); err != nil {
		b.node.Close()
		return err
	}
	b.cleanups = append(b.cleanups, func() {
		benchkit.KillIn(b.node)
		benchkit.KillIn(b.peer)
		b.node.Close()
		b.peer.Close()
	})
	if b.hNode, err = netlink.NewHandleAt(b.node, unix.NETLINK_ROUTE); err != nil {
		return err
	}
	if b.hPeer, err = netlink.NewHandleAt(b.peer, unix.NETLINK_ROUTE); err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, func() { b.hNode.Close(); b.hPeer.Close() })
	if err := benchkit.Veth(b.node, "lh0", 100, b.peer, "lh0p"); err != nil {
		return err
	}
	if err := benchkit.AddAddr(b.node, "lh0", "192.0.2.10/24"); err != nil {
		return err
	}
	if err := benchkit.AddAddr(b.peer, "lh0p", "192.0.2.1/24"); err != nil {
		return err
	}
	if err := b.waitOper(true); err != nil {
		return err
	}
	pinger := exec.Command("ping", "-q", "-i", "0.1", "192.0.2.10")
	if err := benchkit.InNS(b.peer, pinger.Start); err != nil {
		return fmt.Errorf("pinger: %w", err)
	}
	b.cleanups = append(b.cleanups, func() { _ = pinger.Process.Kill(); _ = pinger.Wait() })
	return nil
}

func (b *bench) close() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
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

func (b *bench) env(c *config, recurring bool) []string {
	env := []string{
		"PATH=" + b.dir + ":/usr/sbin:/usr/bin:/sbin:/bin",
		"OCF_ROOT=/usr/lib/ocf",
		"HA_RSCTMP=" + b.state(c),
		"HA_VARRUN=" + b.state(c),
		"OCF_RESOURCE_INSTANCE=bench-" + c.key,
		"OCF_RESKEY_CRM_meta_timeout=" + c.timeout,
	}
	if recurring {
		env = append(env, "OCF_RESKEY_CRM_meta_interval=10000")
	}
	for k, v := range c.params {
		env = append(env, "OCF_RESKEY_"+k+"="+v)
	}
	return env
}

// agent runs one action of c in the node namespace.
func (b *bench) agent(c *config, action string, recurring bool) (benchkit.Result, error) {
	return benchkit.Run(b.node, b.env(c, recurring), c.prog, action)
}

// peakRSS runs action under /usr/bin/time and returns its peak RSS in KiB
// (the timed runs' rusage cannot tell: a child forked with CLONE_VM, as
// Go's os/exec does, inherits the parent's high-water mark at exec).
func (b *bench) peakRSS(c *config, action string) (float64, error) {
	f, err := os.CreateTemp("", "hanet-bench-rss-")
	if err != nil {
		return 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	r, err := benchkit.Run(b.node, b.env(c, action == "monitor"), "/usr/bin/time", "-f", "%M", "-o", f.Name(), c.prog, action)
	if err != nil || r.Code != 0 {
		return 0, fmt.Errorf("%s %s under /usr/bin/time = %d %v: %s", c.label, action, r.Code, err, r.Output)
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return 0, err
	}
	var kb float64
	if _, err := fmt.Sscan(strings.TrimSpace(string(data)), &kb); err != nil {
		return 0, fmt.Errorf("/usr/bin/time said %q", data)
	}
	return kb, nil
}

// call is one logged attrd_updater call.
type call struct {
	at     time.Time
	name   string
	value  string // -B or -v value; "" for others
	dampen string
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
			case "-d":
				c.dampen = fs[i+1]
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
		time.Sleep(2 * time.Millisecond)
	}
}

// lastValue returns the last value published for name.
func (b *bench) lastValue(name string) (string, error) {
	cs, err := b.calls()
	if err != nil {
		return "", err
	}
	v := ""
	for _, c := range cs {
		if c.name == name && c.value != "" {
			v = c.value
		}
	}
	return v, nil
}

// waitHealthy makes sure every configuration's last published value is 1,
// calling the polled agents' monitor until it is.
func (b *bench) waitHealthy(cs []*config) error {
	for _, c := range cs {
		deadline := time.Now().Add(60 * time.Second)
		for {
			v, err := b.lastValue(c.attr)
			if err != nil {
				return err
			}
			if v == "1" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: %s is %q, not 1", c.label, c.attr, v)
			}
			if c.watcher {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if r, err := b.agent(c, "monitor", true); err != nil {
				return fmt.Errorf("%s monitor: %w: %s", c.label, err, r.Output)
			}
		}
	}
	return nil
}

// watcherRun: carrier loss, linkhealth publishes 0 by itself; restore.
func (b *bench) watcherRun(c *config) error {
	if err := b.waitHealthy([]*config{c}); err != nil { // after another agent's run, it may still be recovering
		return err
	}
	down, err := b.setPeer(false)
	if err != nil {
		return err
	}
	got, err := b.waitCall(c.attr, "0", down, 5*time.Second)
	if err != nil {
		return err
	}
	c.total = append(c.total, benchkit.DurMs(got.at.Sub(down)))
	c.dampen = got.dampen
	up, err := b.setPeer(true)
	if err != nil {
		return err
	}
	if _, err := b.waitCall(c.attr, "1", up, 15*time.Second); err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	return nil
}

// monitorRun: carrier loss, then at once monitor (D); W from the run's
// stratum; restore.
func (b *bench) monitorRun(c *config, i, n int) error {
	down, err := b.setPeer(false)
	if err != nil {
		return err
	}
	if r, err := b.agent(c, "monitor", true); err != nil {
		return fmt.Errorf("monitor: %w: %s", err, r.Output)
	}
	got, err := b.waitCall(c.attr, "0", down, time.Second)
	if err != nil {
		return err
	}
	b.record(c, got, down, i, n)
	return b.restore(c)
}

func (b *bench) record(c *config, got call, down time.Time, i, n int) {
	d := benchkit.DurMs(got.at.Sub(down))
	w := benchkit.DurMs(time.Duration(float64(monitorInterval) * (float64(i) + 0.5) / float64(n)))
	c.own = append(c.own, d)
	c.total = append(c.total, w+d)
	c.dampen = got.dampen
}

// restore brings the link back and has c republish 1.
func (b *bench) restore(cs ...*config) error {
	if _, err := b.setPeer(true); err != nil {
		return err
	}
	if err := b.waitOper(true); err != nil {
		return err
	}
	return b.waitHealthy(cs)
}

// defaultsRun measures two slow configurations on one carrier loss,
// calling their monitors concurrently.
func (b *bench) defaultsRun(x, y *config, i int) error {
	down, err := b.setPeer(false)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for k, c := range []*config{x, y} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := b.agent(c, "monitor", true); err != nil {
				errs[k] = fmt.Errorf("%s monitor: %w: %s", c.label, err, r.Output)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, c := range []*config{x, y} {
		got, err := b.waitCall(c.attr, "0", down, time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", c.label, err)
		}
		b.record(c, got, down, i, *defaultRuns)
		fmt.Fprintf(os.Stderr, "  %s run %d: D=%s\n", c.label, i+1, benchkit.Ms(last(c.own)))
	}
	return b.restore(x, y)
}

// watcherPid finds linkhealth's watcher: the process running bin, which
// the start action leaves behind.
func watcherPid(bin string) int {
	want, err := filepath.EvalSymlinks(bin)
	if err != nil {
		return 0
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		exe, err := os.Readlink(filepath.Join(d, "exe"))
		if err != nil || exe != want {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(d, "/proc/"))
		if err == nil {
			return pid
		}
	}
	return 0
}

// procCPU returns the CPU time pid's threads have used, from
// /proc/<pid>/task/*/schedstat (nanoseconds on the CPU). Threads that
// exited meanwhile are not counted; a Go program keeps its threads.
func procCPU(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(data)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// vmHWM is pid's peak RSS in bytes (0 when unknown).
func vmHWM(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb * 1024
		}
	}
	return 0
}
