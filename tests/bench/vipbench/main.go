// Command vipbench measures ocf:hanet:vip against the reference agent
// ocf:heartbeat:IPaddr2 on one throw-away lab: an anonymous network
// namespace for the agent, joined by a veth pair to a peer namespace that
// captures the gratuitous ARP frames with kernel receive timestamps.
//
// Runs alternate, vip then IPaddr2, n times each, with the same parameters
// (ip, cidr_netmask, nic; defaults otherwise: 5 ARP rounds 200 ms apart,
// sent in the background). Each run is start, the whole ARP burst, a
// recurring monitor, stop. It prints a Markdown table of medians and p10-p90
// spreads and checks the targets: vip at least 20 times faster from
// exec to the first gratuitous ARP and at least 20 times less CPU per
// monitor, and peak RSS of every action at most 15 MB. A missed target is
// printed as MISSED; it exits 1 when a run fails or, with -enforce, when a
// target is missed. With BENCH_OUT set it also writes its samples and
// verdicts to $BENCH_OUT/vipbench.json for tests/bench/report.
//
// Run it as root (tests/bench/run does): go run ./tests/bench/vipbench -vip bin/vip
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

const (
	vipAddr = "192.0.2.100"
	ipaddr2 = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"
	rounds  = 5 // arp_count default of both agents: 2 frames a round
)

// An agent under test.
type agent struct {
	name  string
	path  string
	state string // HA_RSCTMP
	m     metrics
	procs map[string]procCount // per action, from strace
}

// metrics holds one slice of samples per measured quantity.
type metrics map[string][]float64

func (a *agent) env(extra ...string) []string {
	return append([]string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"OCF_ROOT=/usr/lib/ocf",
		"HA_RSCTMP=" + a.state,
		"OCF_RESOURCE_INSTANCE=bench-vip",
		"OCF_RESKEY_CRM_meta_timeout=20000",
		"OCF_RESKEY_ip=" + vipAddr,
		"OCF_RESKEY_cidr_netmask=24",
		"OCF_RESKEY_nic=" + labNIC,
	}, extra...)
}

func main() {
	os.Exit(run())
}

func run() int {
	vip := flag.String("vip", filepath.Join(os.Getenv("HANET_BIN"), "vip"), "the vip agent ($HANET_BIN/vip)")
	ref := flag.String("ipaddr2", ipaddr2, "the reference agent")
	n := flag.Int("n", 20, "runs per agent")
	budget := flag.Duration("budget", 240*time.Second, "stop starting runs after this long")
	enforce := flag.Bool("enforce", false, "exit 1 when a target is missed")
	flag.Parse()

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "vipbench: needs root (network namespaces, raw sockets)")
		return 1
	}
	for _, p := range []string{*vip, *ref} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(os.Stderr, "vipbench: %v\n", err)
			return 1
		}
	}
	// State on tmpfs, as /run/resource-agents is on a cluster node.
	tmp, err := os.MkdirTemp("/dev/shm", "hanet-vipbench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "vipbench: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	l, err := newLab()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vipbench: build lab: %v\n", err)
		return 1
	}
	defer l.close()
	c, err := startCapture(l.peer, peerNIC, netip.MustParseAddr(vipAddr))
	if err != nil {
		fmt.Fprintf(os.Stderr, "vipbench: capture: %v\n", err)
		return 1
	}
	defer c.close()

	agents := []*agent{
		{name: "ocf:hanet:vip", path: *vip, state: filepath.Join(tmp, "vip"), m: metrics{}},
		{name: "ocf:heartbeat:IPaddr2", path: *ref, state: filepath.Join(tmp, "ipaddr2"), m: metrics{}},
	}
	for _, a := range agents {
		if err := os.MkdirAll(a.state, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "vipbench: %v\n", err)
			return 1
		}
	}

	began := time.Now()
	done := 0
	for i := 0; i < *n; i++ {
		if time.Since(began) > *budget {
			fmt.Fprintf(os.Stderr, "vipbench: budget %v spent after %d runs each\n", *budget, done)
			break
		}
		for _, a := range agents {
			if err := cycle(l, c, a); err != nil {
				fmt.Fprintf(os.Stderr, "vipbench: %s run %d: %v\n", a.name, i+1, err)
				return 1
			}
		}
		done++
	}
	for _, a := range agents {
		if err := measureRSS(l, a); err != nil {
			fmt.Fprintf(os.Stderr, "vipbench: %s peak RSS: %v\n", a.name, err)
			return 1
		}
	}
	strace := true
	for _, a := range agents {
		a.procs, err = countProcs(l, c, a)
		if errors.Is(err, exec.ErrNotFound) {
			strace = false
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "vipbench: %s under strace: %v\n", a.name, err)
			return 1
		}
	}
	if err := c.close(); err != nil {
		fmt.Fprintf(os.Stderr, "vipbench: capture: %v\n", err)
		return 1
	}
	res := benchkit.Results{Bench: "vipbench"}
	ok := report(os.Stdout, agents, done, strace, time.Since(began), &res)
	if err := res.Write(); err != nil {
		fmt.Fprintf(os.Stderr, "vipbench: %v\n", err)
		return 1
	}
	if !ok && *enforce {
		return 1
	}
	return 0
}

// cycle runs start, waits for the ARP burst, monitor, stop, and records
// the measurements.
func cycle(l *lab, c *capture, a *agent) error {
	mark := c.count()
	start, err := benchkit.Run(l.ns, a.env(), a.path, "start")
	if err != nil {
		return err
	}
	if start.Code != 0 {
		return fmt.Errorf("start: rc=%d\n%s", start.Code, start.Output)
	}
	frames := c.quiet(mark, 2*rounds, 300*time.Millisecond, 3*time.Second)
	if len(frames) == 0 {
		return errors.New("start sent no gratuitous ARP")
	}
	if ok, err := l.hasAddr(vipAddr); err != nil || !ok {
		return fmt.Errorf("address absent after start (%v)", err)
	}
	mon, err := benchkit.Run(l.ns, a.env("OCF_RESKEY_CRM_meta_interval=10000"), a.path, "monitor")
	if err != nil {
		return err
	}
	if mon.Code != 0 {
		return fmt.Errorf("monitor: rc=%d\n%s", mon.Code, mon.Output)
	}
	stop, err := benchkit.Run(l.ns, a.env(), a.path, "stop")
	if err != nil {
		return err
	}
	if stop.Code != 0 {
		return fmt.Errorf("stop: rc=%d\n%s", stop.Code, stop.Output)
	}
	if ok, err := l.hasAddr(vipAddr); err != nil || ok {
		return fmt.Errorf("address present after stop (%v)", err)
	}
	a.m.add("start wall", benchkit.DurMs(start.Wall))
	a.m.add("start CPU", benchkit.DurMs(start.CPU))
	a.m.add("first ARP", benchkit.DurMs(frames[0].at.Sub(start.T0)))
	a.m.add("last ARP", benchkit.DurMs(frames[len(frames)-1].at.Sub(start.T0)))
	a.m.add("ARP frames", float64(len(frames)))
	a.m.add("monitor wall", benchkit.DurMs(mon.Wall))
	a.m.add("monitor CPU", benchkit.DurMs(mon.CPU))
	a.m.add("stop wall", benchkit.DurMs(stop.Wall))
	a.m.add("stop CPU", benchkit.DurMs(stop.CPU))
	return nil
}

// rssRuns is how many extra cycles measureRSS runs.
const rssRuns = 3

// measureRSS runs rssRuns extra, untimed cycles under /usr/bin/time and
// records each action's peak RSS. The rusage of the timed runs cannot
// tell it: a child forked with CLONE_VM (as Go's os/exec does) inherits
// the parent's high-water mark at exec. GNU time forks without CLONE_VM
// and is small itself.
func measureRSS(l *lab, a *agent) error {
	for range rssRuns {
		for _, action := range []string{"start", "monitor", "stop"} {
			out, err := os.CreateTemp("", "vipbench-rss-")
			if err != nil {
				return err
			}
			out.Close()
			defer os.Remove(out.Name())
			env := a.env()
			if action == "monitor" {
				env = a.env("OCF_RESKEY_CRM_meta_interval=10000")
			}
			r, err := benchkit.Run(l.ns, env, "/usr/bin/time", "-f", "%M", "-o", out.Name(), a.path, action)
			if err != nil {
				return err
			}
			if r.Code != 0 {
				return fmt.Errorf("%s: rc=%d\n%s", action, r.Code, r.Output)
			}
			data, err := os.ReadFile(out.Name())
			if err != nil {
				return err
			}
			var kb float64
			if _, err := fmt.Sscan(strings.TrimSpace(string(data)), &kb); err != nil {
				return fmt.Errorf("%s: /usr/bin/time said %q", action, data)
			}
			a.m.add(action+" RSS", kb/1024)
			if action == "start" {
				time.Sleep(time.Duration(2*rounds) * 100 * time.Millisecond) // let the burst end
			}
		}
	}
	return nil
}

func (m metrics) add(k string, v float64) { m[k] = append(m[k], v) }

// A procCount is what strace -f saw of one action: processes forked
// (clones without CLONE_THREAD, forks, vforks) and programs executed
// (successful execve, the agent's own excluded).
type procCount struct{ forks, execs int }

// countProcs runs one extra, untimed cycle under strace -f and counts the
// processes each action forks. It returns exec.ErrNotFound (wrapped)
// without strace.
func countProcs(l *lab, c *capture, a *agent) (map[string]procCount, error) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		return nil, err
	}
	counts := map[string]procCount{}
	for _, action := range []string{"start", "monitor", "stop"} {
		out, err := os.CreateTemp("", "vipbench-strace-")
		if err != nil {
			return nil, err
		}
		out.Close()
		defer os.Remove(out.Name())
		env := a.env()
		if action == "monitor" {
			env = a.env("OCF_RESKEY_CRM_meta_interval=10000")
		}
		// strace follows the background ARP sender too and ends with it.
		wrapper := exec.Command(strace, "-f", "-qq", "-o", out.Name(),
			"-e", "trace=execve,execveat,clone,clone3,fork,vfork", a.path, action)
		wrapper.Env = env
		if err := benchkit.InNS(l.ns, wrapper.Start); err != nil {
			return nil, err
		}
		if err := wrapper.Wait(); err != nil {
			return nil, fmt.Errorf("%s: %w", action, err)
		}
		data, err := os.ReadFile(out.Name())
		if err != nil {
			return nil, err
		}
		counts[action] = parseStrace(string(data))
	}
	if ok, err := l.hasAddr(vipAddr); err != nil || ok {
		return nil, fmt.Errorf("address present after stop (%v)", err)
	}
	return counts, nil
}

// parseStrace counts forks and execs in strace -f output, following calls
// split into "<unfinished ...>" and "<... resumed>" lines.
func parseStrace(out string) procCount {
	var pc procCount
	pending := map[string]bool{} // pid -> unfinished clone is a thread
	for _, line := range strings.Split(out, "\n") {
		pid, rest, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest) // strace pads pids to 5 columns: "6773  execve(…"
		ret := ""
		if i := strings.LastIndex(rest, "= "); i >= 0 && strings.HasSuffix(strings.TrimSpace(rest[:i]), ")") {
			ret = strings.Fields(rest[i+2:] + " ")[0]
		}
		isExec := strings.HasPrefix(rest, "execve(") || strings.HasPrefix(rest, "execveat(") ||
			strings.HasPrefix(rest, "<... execve resumed>") || strings.HasPrefix(rest, "<... execveat resumed>")
		isClone := strings.HasPrefix(rest, "clone(") || strings.HasPrefix(rest, "clone3(") ||
			strings.HasPrefix(rest, "fork(") || strings.HasPrefix(rest, "vfork(")
		isResumed := strings.HasPrefix(rest, "<... clone resumed>") || strings.HasPrefix(rest, "<... clone3 resumed>") ||
			strings.HasPrefix(rest, "<... fork resumed>") || strings.HasPrefix(rest, "<... vfork resumed>")
		switch {
		case isExec:
			if ret == "0" {
				pc.execs++
			}
		case isClone:
			thread := strings.Contains(rest, "CLONE_THREAD")
			if strings.HasSuffix(rest, "<unfinished ...>") {
				pending[pid] = thread
			} else if !thread && ret != "" && ret != "-1" && ret != "?" {
				pc.forks++
			}
		case isResumed:
			if !pending[pid] && ret != "" && ret != "-1" && ret != "?" {
				pc.forks++
			}
			delete(pending, pid)
		}
	}
	if pc.execs > 0 {
		pc.execs-- // strace's exec of the agent itself
	}
	return pc
}
