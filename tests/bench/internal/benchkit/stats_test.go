package benchkit

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestQuantile(t *testing.T) {
	for _, tt := range []struct {
		in      []float64
		q, want float64
	}{
		{[]float64{5}, 0.5, 5},
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.1, 2},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.9, 10},
		{[]float64{4, 1}, 0, 1},
		{[]float64{4, 1}, 1, 4},
	} {
		if got := Quantile(tt.in, tt.q); got != tt.want {
			t.Errorf("Quantile(%v, %v) = %v, want %v", tt.in, tt.q, got, tt.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		ms   float64
		want string
	}{
		{0.25, "0.250 ms"}, {3.456, "3.46 ms"}, {45.6, "45.6 ms"}, {456, "456 ms"}, {4567, "4.57 s"}, {45678, "45.7 s"},
	} {
		if got := Ms(tt.ms); got != tt.want {
			t.Errorf("Ms(%v) = %q, want %q", tt.ms, got, tt.want)
		}
	}
	if got, want := MsCell([]float64{1, 2, 3}), "2.00 ms (1.20 ms–2.80 ms)"; got != want {
		t.Errorf("MsCell = %q, want %q", got, want)
	}
	if got, want := Cell([]float64{10, 20, 30}, "MB"), "20.0 MB (12.0–28.0)"; got != want {
		t.Errorf("Cell = %q, want %q", got, want)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BENCH_OUT", dir)
	r := Results{Bench: "x"}
	r.Add("panel", "a", "ms", true, []float64{1, 2})
	if v := r.Check("t ≤ 1", "2", false); v.Word() != "MISSED" || v.Line() != "- t ≤ 1: 2 — **MISSED**" {
		t.Errorf("verdict %+v: %q %q", v, v.Word(), v.Line())
	}
	if err := r.Write(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); err != nil {
		t.Fatal(err)
	}
	all, err := ReadAll(dir)
	if err != nil || len(all) != 1 || all[0].Series[0].Values[1] != 2 || all[0].Verdicts[0].Met {
		t.Fatalf("ReadAll = %+v, %v", all, err)
	}
}
