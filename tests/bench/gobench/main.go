// Command gobench runs hanet's Go micro-benchmarks of the agents' hot paths
// (parameter parsing, meta-data generation, a whole monitor through
// ocf.Main, route lookup for nic detection, GARP frame building and
// parsing, bond option comparison) with go test -bench, -count times, and
// prints a Markdown table of the medians with the min–max spread. Run it
// from the repository (tests/bench/run does); it needs the go tool.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

var (
	count     = flag.Int("count", 5, "go test -count")
	benchtime = flag.String("benchtime", "100ms", "go test -benchtime")
	pkgs      = flag.String("pkgs", "./pkg/ocf ./pkg/netif ./pkg/garp ./pkg/bond ./agents/vip", "packages")
)

// One result line: BenchmarkName-2  N  123 ns/op  [x MB/s]  45 B/op  6 allocs/op
var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ MB/s)?(?:\s+(\d+) B/op\s+(\d+) allocs/op)?`)

type sample struct{ ns, bytes, allocs []float64 }

func main() {
	flag.Parse()
	if root := os.Getenv("HANET_ROOT"); root != "" {
		if err := os.Chdir(root); err != nil {
			fmt.Fprintln(os.Stderr, "gobench:", err)
			os.Exit(1)
		}
	}
	began := time.Now()
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", strconv.Itoa(*count), "-benchtime", *benchtime},
		strings.Fields(*pkgs)...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "gobench: go %s: %v\n%s", strings.Join(args, " "), err, out.String())
		os.Exit(1)
	}
	var order []string
	res := map[string]*sample{}
	pkg := ""
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		t := sc.Text()
		if p, ok := strings.CutPrefix(t, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/hanet/hanet/")
			continue
		}
		m := line.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		key := pkg + "\t" + strings.TrimPrefix(m[1], "Benchmark")
		s := res[key]
		if s == nil {
			s = &sample{}
			res[key] = s
			order = append(order, key)
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		s.ns = append(s.ns, ns)
		if m[3] != "" {
			b, _ := strconv.ParseFloat(m[3], 64)
			a, _ := strconv.ParseFloat(m[4], 64)
			s.bytes, s.allocs = append(s.bytes, b), append(s.allocs, a)
		}
	}
	fmt.Printf("### Go micro-benchmarks of the hot paths\n\n")
	fmt.Printf("`go test -run '^$' -bench . -benchmem -count %d -benchtime %s %s`, %v. Median of the %d runs (min–max).\n\n",
		*count, *benchtime, *pkgs, time.Since(began).Round(time.Second), *count)
	fmt.Println("| package | benchmark | time per op | B/op | allocs/op |")
	fmt.Println("|---|---|---|---:|---:|")
	for _, k := range order {
		p, name, _ := strings.Cut(k, "\t")
		s := res[k]
		lo, hi := minMax(s.ns)
		fmt.Printf("| %s | %s | %s (%s–%s) | %s | %s |\n", p, name, dur(benchkit.Median(s.ns)), dur(lo), dur(hi),
			intCell(s.bytes), intCell(s.allocs))
	}
	fmt.Println()
	fmt.Println("What they cover: ocf Parse = the 20-parameter table of every action; Metadata = the meta-data action's " +
		"XML; MainMonitor = a whole recurring monitor through ocf.Main minus the agent's own work; netif BestRoute = " +
		"nic detection over a 50-route table; garp Build*/Parse* = the frames of a GARP burst and of a duplicate-address " +
		"probe; bond Diff/Changes = monitor at OCF_CHECK_LEVEL 10 and reload-agent; vip ParseConfig/ValidateAll = the " +
		"vip agent's configuration and validate-all.")
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

func intCell(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return strconv.FormatFloat(benchkit.Median(v), 'f', 0, 64)
}

func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
