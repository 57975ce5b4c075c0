package benchkit

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Quantile returns the q-quantile (0..1) of samples, interpolating linearly
// between the closest ranks; NaN without samples.
func Quantile(samples []float64, q float64) float64 {
	if len(samples) == 0 {
		return math.NaN()
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// Median is Quantile(samples, 0.5).
func Median(samples []float64) float64 { return Quantile(samples, 0.5) }

// Num formats a number with three significant digits or so.
func Num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "–"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1 || a == 0:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// Cell renders samples as "median unit (p10–p90)".
func Cell(samples []float64, unit string) string {
	if len(samples) == 0 {
		return "–"
	}
	if unit != "" {
		unit = " " + unit
	}
	return fmt.Sprintf("%s%s (%s–%s)", Num(Median(samples)), unit, Num(Quantile(samples, 0.1)), Num(Quantile(samples, 0.9)))
}

// Ms formats milliseconds, switching to seconds from 10 s on.
func Ms(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10000:
		return fmt.Sprintf("%.1f s", v/1000)
	case a >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return Num(v) + " ms"
}

// MsCell is Cell for milliseconds with Ms's units.
func MsCell(samples []float64) string {
	if len(samples) == 0 {
		return "–"
	}
	return fmt.Sprintf("%s (%s–%s)", Ms(Median(samples)), Ms(Quantile(samples, 0.1)), Ms(Quantile(samples, 0.9)))
}

// DurMs converts a duration to float milliseconds.
func DurMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Kernel is the running kernel's release.
func Kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// CPUModel is the first "model name" of /proc/cpuinfo.
func CPUModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// LoadAvg is the first three fields of /proc/loadavg.
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Machine describes this machine in one line.
func Machine() string {
	return fmt.Sprintf("%d CPUs (%s), kernel %s, load average %s", runtime.NumCPU(), CPUModel(), Kernel(), LoadAvg())
}
