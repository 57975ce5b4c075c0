package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

func TestMsLabel(t *testing.T) {
	for v, want := range map[float64]string{0.5: "500 µs", 1: "1 ms", 20: "20 ms", 1000: "1 s", 50000: "50 s"} {
		if got := msLabel(v); got != want {
			t.Errorf("msLabel(%v) = %q, want %q", v, got, want)
		}
	}
	// Over many decades only the powers of ten are labelled.
	for _, tk := range (msLogTicks{}).Ticks(1, 100000) {
		if tk.Label != "" && !strings.HasPrefix(tk.Label, "1") {
			t.Errorf("label %q on a 5-decade axis", tk.Label)
		}
	}
}

// TestReport writes a report and its plot from synthetic results.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BENCH_OUT", dir)
	r := benchkit.Results{Bench: "vipbench"}
	r.Add("exec → first gratuitous ARP on the wire (ms, log)", "vip", "ms", true, []float64{3, 4, 5, 0})
	r.Add("exec → first gratuitous ARP on the wire (ms, log)", "IPaddr2", "ms", true, []float64{100, 110, 130})
	r.Add("bond: failure → failover (ms, log), qemu guest", "active-backup miimon", "ms", true, []float64{90, 100})
	r.Check("vip first ARP ≥ 20× sooner", "25×", true)
	r.Check("vip monitor CPU ≥ 20× less", "12×", false)
	if err := r.Write(); err != nil {
		t.Fatal(err)
	}
	md := "### ocf:hanet:vip vs ocf:heartbeat:IPaddr2\n\n| metric | vip |\n|---|---|\n| x | 1 |\n"
	if err := os.WriteFile(filepath.Join(dir, "vipbench.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	status := "vipbench\tok\t12\t\ncluster\tskipped\t0\tno tests/cluster/compare\nbondbench\tfailed\t3\texit status 1\n"
	if err := os.WriteFile(filepath.Join(dir, "status.tsv"), []byte(status), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "vip"), make([]byte, 3100000), 0o755); err != nil {
		t.Fatal(err)
	}
	*in, *doc, *png, *took, *machine = dir, filepath.Join(dir, "docs", "PERFORMANCE.md"), filepath.Join(dir, "docs", "p.png"), 90*time.Second, "test machine"
	*flagBin = bin
	if err := run(); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(*doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"| vip monitor CPU ≥ 20× less | 12× | **MISSED** |",
		"| bin/vip ≤ 3 MB | 3.10 MB",
		"1 of 3 targets met.",
		"![",
		"Skipped: no tests/cluster/compare",
		"**This benchmark failed",
		"| x | 1 |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "### ocf:hanet:vip vs") {
		t.Errorf("the single heading of a section was kept:\n%s", text)
	}
	if st, err := os.Stat(*png); err != nil || st.Size() < 10000 {
		t.Errorf("plot: %v %v", st, err)
	}
}
