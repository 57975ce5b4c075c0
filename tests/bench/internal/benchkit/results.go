// Package benchkit holds what hanet's benchmarks (tests/bench/*) share: the
// results file each one hands to the report, statistics and their Markdown
// formatting, a description of the machine, and network namespace helpers.
// Benchmarks only: no agent or pkg/* package imports it.
package benchkit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Results is what one benchmark hands to tests/bench/report besides its
// Markdown: raw samples for the plot and the verdicts on the issue's
// targets. Write puts it in $BENCH_OUT/<Bench>.json.
type Results struct {
	Bench    string    `json:"bench"`
	Series   []Series  `json:"series,omitempty"`
	Verdicts []Verdict `json:"verdicts,omitempty"`
}

// A Series is one configuration's samples of one quantity. Series with the
// same Panel share a panel of the plot, in the order they were added.
type Series struct {
	Panel  string    `json:"panel"`         // panel title
	Label  string    `json:"label"`         // the configuration, e.g. "ocf:hanet:vip"
	Unit   string    `json:"unit"`          // of Values, e.g. "ms"
	Log    bool      `json:"log,omitempty"` // the panel wants a log scale
	Values []float64 `json:"values"`
}

// A Verdict is one target checked: what was wanted, what was measured.
type Verdict struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// Word is "met" or "MISSED".
func (v Verdict) Word() string {
	if v.Met {
		return "met"
	}
	return "MISSED"
}

// Line is the verdict as one Markdown list item.
func (v Verdict) Line() string {
	return fmt.Sprintf("- %s: %s — **%s**", v.Target, v.Measured, v.Word())
}

// Add appends a series.
func (r *Results) Add(panel, label, unit string, log bool, values []float64) {
	r.Series = append(r.Series, Series{Panel: panel, Label: label, Unit: unit, Log: log, Values: values})
}

// Check records a verdict and returns it.
func (r *Results) Check(target, measured string, met bool) Verdict {
	v := Verdict{Target: target, Measured: measured, Met: met}
	r.Verdicts = append(r.Verdicts, v)
	return v
}

// Write stores the results in $BENCH_OUT/<bench>.json; without BENCH_OUT
// it does nothing.
func (r *Results) Write() error {
	dir := os.Getenv("BENCH_OUT")
	if dir == "" {
		return nil
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, r.Bench+".json"), b, 0o644)
}

// ReadAll reads every results file in dir.
func ReadAll(dir string) ([]Results, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Results
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var r Results
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}
