package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

// A row of the table: a metric, its unit, and the ratio IPaddr2/vip the
// issue demands (0: none).
type row struct {
	key, label, unit string
	target           float64
}

var rows = []row{
	{"start wall", "start: wall time", "ms", 0},
	{"start CPU", "start: CPU, user+sys", "ms", 0},
	{"first ARP", "start: exec → first gratuitous ARP on the peer", "ms", 20},
	{"last ARP", "start: exec → last gratuitous ARP on the peer", "ms", 0},
	{"ARP frames", "start: gratuitous ARP frames seen", "", 0},
	{"monitor wall", "monitor: wall time", "ms", 0},
	{"monitor CPU", "monitor: CPU, user+sys", "ms", 20},
	{"stop wall", "stop: wall time", "ms", 0},
	{"stop CPU", "stop: CPU, user+sys", "ms", 0},
	{"start RSS", "start: peak RSS (/usr/bin/time, 3 runs)", "MiB", 0},
	{"monitor RSS", "monitor: peak RSS", "MiB", 0},
	{"stop RSS", "stop: peak RSS", "MiB", 0},
}

// shortKey names the targeted metrics in verdicts.
var shortKey = map[string]string{"first ARP": "exec → first gratuitous ARP", "monitor CPU": "monitor CPU"}

// report writes the Markdown table and the target checks, and reports
// whether every target is met.
func report(w io.Writer, agents []*agent, runs int, strace bool, took time.Duration, res *benchkit.Results) bool {
	vip, ref := agents[0], agents[1]
	fmt.Fprintf(w, "### %s vs %s\n\n", vip.name, ref.name)
	fmt.Fprintf(w, "%d interleaved runs each (vip, IPaddr2, vip, …) in %v; kernel %s, %d CPUs (%s). "+
		"Parameters: ip=%s cidr_netmask=24 nic=%s, defaults otherwise (arp_count 5, arp_interval 200 ms, arp_bg true). "+
		"Median (p10–p90). Times from just before fork/exec; ARP times are the peer's kernel receive timestamps; "+
		"CPU from the agent's rusage, which includes the children it waited for but not the detached ARP sender; "+
		"peak RSS is the largest process of the action. "+
		"State on tmpfs; no syslog (IPaddr2 would fork logger for each line with HA_LOGFACILITY set).\n\n",
		runs, took.Round(time.Second), benchkit.Kernel(), runtime.NumCPU(), benchkit.CPUModel(), vipAddr, labNIC)
	fmt.Fprintf(w, "| metric | %s | %s | IPaddr2 / vip |\n|---|---|---|---|\n", vip.name, ref.name)
	ok := true
	var checks []string
	for _, r := range rows {
		a, b := vip.m[r.key], ref.m[r.key]
		ratio := benchkit.Median(b) / benchkit.Median(a)
		rs := "–"
		if !math.IsNaN(ratio) && !math.IsInf(ratio, 0) && r.key != "ARP frames" {
			rs = fmt.Sprintf("%.1f×", ratio)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.label, benchkit.Cell(a, r.unit), benchkit.Cell(b, r.unit), rs)
		if r.target > 0 {
			pass := ratio >= r.target
			ok = ok && pass
			v := res.Check(fmt.Sprintf("vip %s ≥ %.0f× IPaddr2's (IPaddr2/vip, medians)", shortKey[r.key], r.target),
				fmt.Sprintf("%.1f× (%s vs %s ms)", ratio, benchkit.Num(benchkit.Median(b)), benchkit.Num(benchkit.Median(a))), pass)
			checks = append(checks, v.Line())
		}
	}
	if strace {
		for _, action := range []string{"start", "monitor", "stop"} {
			pv, pr := vip.procs[action], ref.procs[action]
			fmt.Fprintf(w, "| %s: processes forked / programs executed (strace -f, one run) | %d / %d | %d / %d | |\n",
				action, pv.forks, pv.execs, pr.forks, pr.execs)
		}
	} else {
		fmt.Fprintf(w, "| processes forked | strace not installed | | |\n")
	}
	peak := 0.0
	for _, k := range []string{"start RSS", "monitor RSS", "stop RSS"} {
		for _, v := range vip.m[k] {
			peak = max(peak, v)
		}
	}
	peakB := peak * (1 << 20)
	v := res.Check("vip peak RSS ≤ 15 MB (start, monitor, stop)", fmt.Sprintf("%.1f MB (%.1f MiB)", peakB/1e6, peak), peak > 0 && peakB <= 15e6)
	ok = ok && v.Met
	checks = append(checks, v.Line())
	fmt.Fprintf(w, "\nTargets:\n%s\n", strings.Join(checks, "\n"))
	res.Add("exec → first gratuitous ARP on the wire (ms, log)", "vip", "ms", true, vip.m["first ARP"])
	res.Add("exec → first gratuitous ARP on the wire (ms, log)", "IPaddr2", "ms", true, ref.m["first ARP"])
	res.Add("exec → last gratuitous ARP on the wire (ms)", "vip", "ms", false, vip.m["last ARP"])
	res.Add("exec → last gratuitous ARP on the wire (ms)", "IPaddr2", "ms", false, ref.m["last ARP"])
	res.Add("CPU per monitor call (ms, log)", "vip", "ms", true, vip.m["monitor CPU"])
	res.Add("CPU per monitor call (ms, log)", "IPaddr2", "ms", true, ref.m["monitor CPU"])
	return ok
}
