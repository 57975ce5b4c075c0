//go:build linux

// Command profile counts what each agent action costs the kernel: the
// system calls of the action and every process it forks (strace -f; the
// detached watcher of linkhealth start is let go at its exec), the
// threads and processes it creates, the programs it executes, and from
// perf stat (when installed) its CPU time, page faults and context switches.
// Agents: ocf:hanet:vip and ocf:heartbeat:IPaddr2, ocf:hanet:linkhealth,
// ocf:heartbeat:ethmonitor and ocf:pacemaker:ping (defaults), in a network
// namespace of their own; baselines: /bin/true and vip meta-data (a Go
// agent's start-up with no work). It prints Markdown with notes on what
// could be removed, derived from the traces. ocf:hanet:bond is not profiled:
// the host kernel has no bonding driver and the qemu guest has no strace.
//
//	HANET_BIN=$PWD/bin go run ./tests/bench/profile [-perf-runs 5]
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netns"

	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

const (
	ipaddr2    = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"
	ethmonitor = "/usr/lib/ocf/resource.d/heartbeat/ethmonitor"
	ping       = "/usr/lib/ocf/resource.d/pacemaker/ping"
)

var perfRuns = flag.Int("perf-runs", 5, "perf stat runs per action, interleaved (0: none)")

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}

// An action of an agent.
type action struct {
	agent, name string
	prog        string
	args        []string
	env         []string
	detachExec  bool // linkhealth start: let the watcher go at its exec
	settle      time.Duration

	tr   *trace
	perf map[string][]float64 // event → samples
}

func (a *action) label() string { return a.agent + " " + a.name }

func run() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root")
	}
	bin := os.Getenv("HANET_BIN")
	if bin == "" {
		return errors.New("HANET_BIN must hold the built agents")
	}
	dir, err := os.MkdirTemp("", "hanet-bench-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "attrd_updater"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		return err
	}
	node, err := benchkit.NewNS()
	if err != nil {
		return err
	}
	peer, err := benchkit.NewNS()
	if err != nil {
		return err
	}
	defer func() {
		benchkit.KillIn(node)
		benchkit.KillIn(peer)
		node.Close()
		peer.Close()
	}()
	if err := benchkit.Sysctl(node, "net/ipv6/conf/default/disable_ipv6", "1"); err != nil {
		return err
	}
	if err := benchkit.Veth(node, "lan0", 0, peer, "peer0"); err != nil {
		return err
	}
	if err := benchkit.AddAddr(node, "lan0", "192.0.2.1/24"); err != nil {
		return err
	}
	if err := benchkit.AddAddr(peer, "peer0", "192.0.2.2/24"); err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond)
	pinger := exec.Command("ping", "-q", "-i", "0.1", "192.0.2.1") // RX traffic for ethmonitor's fast path
	if err := benchkit.InNS(peer, pinger.Start); err != nil {
		return err
	}
	defer func() { _ = pinger.Process.Kill(); _ = pinger.Wait() }()

	base := func(state string, kv ...string) []string {
		_ = os.MkdirAll(filepath.Join(dir, state), 0o755)
		return append([]string{"PATH=" + dir + ":/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT=/usr/lib/ocf",
			"HA_RSCTMP=" + filepath.Join(dir, state), "HA_VARRUN=" + filepath.Join(dir, state),
			"OCF_RESOURCE_INSTANCE=prof", "OCF_RESKEY_CRM_meta_timeout=20000"}, kv...)
	}
	vipEnv := base("vip", "OCF_RESKEY_ip=192.0.2.100", "OCF_RESKEY_cidr_netmask=24", "OCF_RESKEY_nic=lan0")
	refEnv := base("ipaddr2", "OCF_RESKEY_ip=192.0.2.100", "OCF_RESKEY_cidr_netmask=24", "OCF_RESKEY_nic=lan0")
	lhEnv := base("lh", "OCF_RESKEY_interfaces=lan0")
	emEnv := base("em", "OCF_RESKEY_interface=lan0")
	pingEnv := base("ping", "OCF_RESKEY_host_list=192.0.2.2", "OCF_RESKEY_CRM_meta_timeout=60000")
	mon := "OCF_RESKEY_CRM_meta_interval=10000"
	seq := func(agent, prog string, env []string, settle time.Duration) []*action {
		return []*action{
			{agent: agent, name: "start", prog: prog, env: env, settle: settle, detachExec: agent == "linkhealth"},
			{agent: agent, name: "monitor", prog: prog, env: append(slices.Clone(env), mon)},
			{agent: agent, name: "stop", prog: prog, env: env},
		}
	}
	groups := [][]*action{
		seq("vip", filepath.Join(bin, "vip"), vipEnv, 1200*time.Millisecond),
		seq("IPaddr2", ipaddr2, refEnv, 1500*time.Millisecond),
		seq("linkhealth", filepath.Join(bin, "linkhealth"), lhEnv, 0),
		seq("ethmonitor", ethmonitor, emEnv, 0),
		seq("ping", ping, pingEnv, 0),
		{{agent: "baseline", name: "/bin/true", prog: "/bin/true", env: vipEnv},
			{agent: "baseline", name: "vip meta-data", prog: filepath.Join(bin, "vip"), args: []string{"meta-data"}, env: vipEnv}},
	}
	for _, g := range groups {
		for _, a := range g {
			if a.args == nil {
				a.args = []string{a.name}
			}
		}
	}
	began := time.Now()

	// Warm-up: one untraced pass, so caches and state directories are as in
	// steady operation.
	for _, g := range groups {
		for _, a := range g {
			if err := plain(node, a); err != nil {
				return err
			}
		}
	}

	strace, serr := exec.LookPath("strace")
	if serr == nil {
		for _, g := range groups {
			for _, a := range g {
				if a.tr, err = traceAction(node, strace, dir, a); err != nil {
					return err
				}
			}
		}
	}
	perf, perr := exec.LookPath("perf")
	if perr == nil && *perfRuns > 0 {
		for range *perfRuns {
			for _, g := range groups {
				for _, a := range g {
					if err := perfAction(node, perf, dir, a); err != nil {
						return err
					}
				}
			}
		}
	}

	fmt.Printf("### System calls and process cost per action\n\n")
	fmt.Printf("Each action once under `strace -f` (every process it forks is followed; the linkhealth watcher is let go at "+
		"its exec with `-b execve`, so its start-up is not counted), after one untraced warm-up pass. perf stat: %d runs "+
		"per action, interleaved, medians; CPU = task-clock of the action's processes. The vip and IPaddr2 start include "+
		"their ARP burst sender (followed to its end by strace). ethmonitor and ping with their defaults, traffic on the "+
		"link. %v.\n\n", *perfRuns, time.Since(began).Round(time.Second))
	if serr != nil {
		fmt.Printf("strace is not installed: no system call counts (apt-get install strace).\n\n")
	}
	if perr != nil {
		fmt.Printf("perf is not installed: no CPU, page-fault and context-switch figures (apt-get install linux-perf).\n\n")
	}
	fmt.Println("| agent | action | system calls | failed | threads / processes created | programs executed | most frequent | CPU | page faults | context switches |")
	fmt.Println("|---|---|---:|---:|---|---:|---|---|---:|---:|")
	for _, g := range groups {
		for _, a := range g {
			calls, failed, created, execs, top := "–", "–", "–", "–", "–"
			if t := a.tr; t != nil {
				calls, failed = strconv.Itoa(t.total), strconv.Itoa(t.failed)
				created = fmt.Sprintf("%d / %d", t.threads, t.forks)
				execs, top = strconv.Itoa(t.execs), t.top(5)
			}
			cpu, pf, cs := "–", "–", "–"
			if len(a.perf["task-clock"]) > 0 {
				cpu = benchkit.Ms(benchkit.Median(a.perf["task-clock"]))
				pf = benchkit.Num(benchkit.Median(a.perf["page-faults"]))
				cs = benchkit.Num(benchkit.Median(a.perf["context-switches"]))
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", a.agent, a.name, calls, failed, created, execs, top, cpu, pf, cs)
		}
	}
	fmt.Println()
	if serr == nil {
		notes(groups)
	}
	return nil
}

// plain runs a once without measuring.
func plain(ns netns.NsHandle, a *action) error {
	r, err := benchkit.Run(ns, a.env, a.prog, a.args...)
	if err != nil {
		return fmt.Errorf("%s: %w", a.label(), err)
	}
	if r.Code != 0 && !(a.name == "monitor" && r.Code == 7) {
		return fmt.Errorf("%s = %d: %s", a.label(), r.Code, r.Output)
	}
	time.Sleep(a.settle)
	return nil
}

func traceAction(ns netns.NsHandle, strace, dir string, a *action) (*trace, error) {
	out := filepath.Join(dir, "strace.out")
	args := []string{"-f", "-qq", "-o", out}
	if a.detachExec {
		args = append(args, "-b", "execve")
	}
	args = append(append(args, a.prog), a.args...)
	r, err := benchkit.Run(ns, a.env, strace, args...)
	if err != nil {
		return nil, fmt.Errorf("strace %s: %w", a.label(), err)
	}
	if r.Code != 0 {
		return nil, fmt.Errorf("strace %s = %d: %s", a.label(), r.Code, r.Output)
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := parseTrace(f)
	time.Sleep(a.settle)
	return t, nil
}

func perfAction(ns netns.NsHandle, perf, dir string, a *action) error {
	out := filepath.Join(dir, "perf.out")
	args := append([]string{"stat", "-x", ",", "-e", "task-clock,page-faults,context-switches", "-o", out, "--", a.prog}, a.args...)
	r, err := benchkit.Run(ns, a.env, perf, args...)
	if err != nil {
		return fmt.Errorf("perf %s: %w", a.label(), err)
	}
	if r.Code != 0 {
		return fmt.Errorf("perf %s = %d: %s", a.label(), r.Code, r.Output)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	if a.perf == nil {
		a.perf = map[string][]float64{}
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Split(l, ",")
		if len(f) < 3 || strings.HasPrefix(l, "#") {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		ev := f[2]
		if strings.HasPrefix(ev, "task-clock") {
			ev = "task-clock" // msec
		}
		a.perf[ev] = append(a.perf[ev], v)
	}
	time.Sleep(a.settle)
	return nil
}

// trace is what one strace -f output holds.
type trace struct {
	calls        map[string]int
	errs         map[string]map[string]int // syscall → errno → count
	total        int
	failed       int
	threads      int
	forks        int
	execs        int
	procCmdline  int // opens of /proc/<pid>/cmdline
	selfCgroup   int // opens of /proc/self/cgroup and mountinfo
	stateOpens   int // opens under the state directory
	fsyncs       int
	getsockname  int
	netlinkSends int
}

var (
	callRe    = regexp.MustCompile(`^(\d+)\s+([a-z0-9_]+)\(`)
	resumedRe = regexp.MustCompile(`^(\d+)\s+<\.\.\. ([a-z0-9_]+) resumed>`)
	errRe     = regexp.MustCompile(`= -1 (E[A-Z]+)`)
	okRe      = regexp.MustCompile(`= (\d+)`)
	cmdlineRe = regexp.MustCompile(`"/proc/\d+/cmdline"`)
)

func parseTrace(f *os.File) *trace {
	t := &trace{calls: map[string]int{}, errs: map[string]map[string]int{}}
	pendingClone := map[string]bool{} // pid → unfinished clone is a thread
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		line := sc.Text()
		name, pid, resumed := "", "", false
		if m := resumedRe.FindStringSubmatch(line); m != nil {
			pid, name, resumed = m[1], m[2], true
		} else if m := callRe.FindStringSubmatch(line); m != nil {
			pid, name = m[1], m[2]
		} else {
			continue
		}
		unfinished := strings.HasSuffix(line, "<unfinished ...>")
		if !resumed {
			t.calls[name]++
			t.total++
			switch name {
			case "openat", "open":
				switch {
				case cmdlineRe.MatchString(line):
					t.procCmdline++
				case strings.Contains(line, `"/proc/self/cgroup"`), strings.Contains(line, `"/proc/self/mountinfo"`):
					t.selfCgroup++
				case strings.Contains(line, "/hanet-"):
					t.stateOpens++
				}
			case "fsync", "fdatasync":
				t.fsyncs++
			case "getsockname":
				t.getsockname++
			case "sendto", "sendmsg":
				if strings.Contains(line, "nlmsg_") {
					t.netlinkSends++
				}
			}
		}
		if unfinished {
			if name == "clone" || name == "clone3" || name == "fork" || name == "vfork" {
				pendingClone[pid] = strings.Contains(line, "CLONE_THREAD")
			}
			continue
		}
		if m := errRe.FindStringSubmatch(line); m != nil {
			t.failed++
			if t.errs[name] == nil {
				t.errs[name] = map[string]int{}
			}
			t.errs[name][m[1]]++
			continue
		}
		switch name {
		case "clone", "clone3", "fork", "vfork":
			thread := strings.Contains(line, "CLONE_THREAD")
			if resumed {
				thread = pendingClone[pid]
				delete(pendingClone, pid)
			}
			if okRe.MatchString(line) {
				if thread {
					t.threads++
				} else {
					t.forks++
				}
			}
		case "execve", "execveat":
			t.execs++
		}
	}
	if t.execs > 0 {
		t.execs-- // strace's exec of the action itself
	}
	return t
}

// top names the n most frequent system calls.
func (t *trace) top(n int) string {
	type kv struct {
		k string
		v int
	}
	var s []kv
	for k, v := range t.calls {
		s = append(s, kv{k, v})
	}
	slices.SortFunc(s, func(a, b kv) int {
		if a.v != b.v {
			return b.v - a.v
		}
		return strings.Compare(a.k, b.k)
	})
	var parts []string
	for i := 0; i < n && i < len(s); i++ {
		parts = append(parts, fmt.Sprintf("%s %d", s[i].k, s[i].v))
	}
	return strings.Join(parts, ", ")
}

// notes prints what the traces say could be removed.
func notes(groups [][]*action) {
	find := func(agent, name string) *trace {
		for _, g := range groups {
			for _, a := range g {
				if a.agent == agent && a.name == name {
					return a.tr
				}
			}
		}
		return nil
	}
	base := find("baseline", "vip meta-data")
	fmt.Println("What the traces say (counts from this run):")
	fmt.Println()
	if base != nil {
		fmt.Printf("- **Go start-up is most of a small action.** vip meta-data, which touches no network and no state, makes "+
			"%d system calls (%d rt_sigaction: the runtime installs a handler for every signal; %d mmap; %d threads). "+
			"An action's own work is what it makes beyond that:", base.total, base.calls["rt_sigaction"], base.calls["mmap"], base.threads)
		var extra []string
		for _, x := range []struct{ agent, name string }{{"vip", "monitor"}, {"vip", "start"}, {"vip", "stop"},
			{"linkhealth", "monitor"}, {"linkhealth", "start"}, {"linkhealth", "stop"}} {
			if t := find(x.agent, x.name); t != nil {
				extra = append(extra, fmt.Sprintf("%s %s %+d", x.agent, x.name, t.total-base.total))
			}
		}
		fmt.Printf(" %s.", strings.Join(extra, ", "))
		fmt.Println(" The fixed part can only shrink with a smaller runtime start (fewer threads, no signal handlers for " +
			"signals the agent never gets), not in the agents' code.")
	}
	med := func(agent, name string) float64 {
		for _, g := range groups {
			for _, a := range g {
				if a.agent == agent && a.name == name && len(a.perf["task-clock"]) > 0 {
					return benchkit.Median(a.perf["task-clock"])
				}
			}
		}
		return math.NaN()
	}
	if m, md, tr := med("vip", "monitor"), med("baseline", "vip meta-data"), med("baseline", "/bin/true"); !math.IsNaN(m + md + tr) {
		fmt.Printf("- **CPU of a Go action is mostly process start.** perf task-clock medians: vip monitor %s, vip meta-data "+
			"(no work at all) %s, /bin/true %s. What vip monitor spends beyond meta-data is its real work; the rest is the "+
			"exec of a static Go binary (page faults: see the table) and the runtime's start, which bound how far below "+
			"IPaddr2's ~%s a monitor's CPU can go.\n", benchkit.Ms(m), benchkit.Ms(md), benchkit.Ms(tr), benchkit.Ms(med("IPaddr2", "monitor")))
	}
	var eperm, files int
	for _, g := range groups {
		for _, a := range g {
			if a.tr == nil || (a.agent != "vip" && a.agent != "linkhealth") {
				continue
			}
			eperm += a.tr.errs["epoll_ctl"]["EPERM"]
			files += a.tr.calls["openat"]
		}
	}
	if eperm > 0 {
		fmt.Printf("- **Regular files through the network poller.** Over the vip and linkhealth actions, %d epoll_ctl calls fail "+
			"with EPERM (of %d openat): os.Open/os.ReadFile offer every file to the poller, which refuses regular files, "+
			"and add fcntl calls around it. Reading the small state and /proc files with unix.Open/unix.Read (or "+
			"os.ReadFile on an fd opened without the poller) would save 3–5 system calls per file.\n", eperm, files)
	}
	if t := find("linkhealth", "start"); t != nil && t.procCmdline > 0 {
		fmt.Printf("- **linkhealth start reads /proc/<pid>/cmdline of every process** (%d here, each open+read+close plus the "+
			"poller calls above): it looks for a stray watcher of the same resource. On a busy node with hundreds of "+
			"processes this is the biggest part of start; the pid file it writes (checked with the process's start "+
			"time, or a pidfd) would make it constant.\n", t.procCmdline)
	}
	var gsn, sends int
	for _, g := range groups {
		for _, a := range g {
			if a.tr != nil && (a.agent == "vip" || a.agent == "linkhealth") {
				gsn += a.tr.getsockname
				sends += a.tr.netlinkSends
			}
		}
	}
	if gsn > 0 {
		fmt.Printf("- **getsockname after netlink requests**: %d over the vip and linkhealth actions, for %d netlink requests: "+
			"vishvananda/netlink asks the socket's port id after every request it sends; caching it would remove them.\n", gsn, sends)
	}
	var fs []string
	for _, x := range []struct{ agent, name string }{{"vip", "start"}, {"vip", "stop"}, {"linkhealth", "start"}, {"linkhealth", "stop"}} {
		if t := find(x.agent, x.name); t != nil && t.fsyncs > 0 {
			fs = append(fs, fmt.Sprintf("%s %s %d", x.agent, x.name, t.fsyncs))
		}
	}
	if len(fs) > 0 {
		fmt.Printf("- **fsync of state files** (%s): the state directory is tmpfs on a cluster node (/run), where fsync is "+
			"free; kept for correctness elsewhere.\n", strings.Join(fs, ", "))
	}
	if r, v := find("IPaddr2", "monitor"), find("vip", "monitor"); r != nil && v != nil {
		fmt.Printf("- **The reference agents' cost is processes**: IPaddr2 monitor executes %d programs (%d system calls in all) "+
			"against vip's %d; ethmonitor and ping likewise (table). Nothing to remove on hanet's side there.\n", r.execs, r.total, v.execs)
	}
	fmt.Println()
}
