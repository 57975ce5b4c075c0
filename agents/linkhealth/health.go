package linkhealth

import (
	"fmt"
	"strings"
	"time"
)

// Thresholds are the hysteresis settings of the health state machine.
type Thresholds struct {
	FailCount    int // consecutive failed checks that make a healthy link unhealthy
	RecoverCount int // consecutive good checks that make an unhealthy link healthy
}

// An Observation is one input to a link's state machine.
type Observation int

// The observations. Down is decisive; CheckFailed and CheckOK are counted.
const (
	// Down: no carrier, administratively down, absent, or a bond without an
	// active slave. The link is unhealthy at once.
	Down Observation = iota
	// CheckFailed: carrier is present but no probe target answered a round.
	CheckFailed
	// CheckOK: carrier returned, or a check (a tick for a link without
	// targets, an answered probe round otherwise) succeeded.
	CheckOK
)

// String names the observation for logs.
func (o Observation) String() string {
	switch o {
	case Down:
		return "down"
	case CheckFailed:
		return "check failed"
	case CheckOK:
		return "check ok"
	}
	return "unknown"
}

// A LinkState is one link's health with its hysteresis counters. The zero
// LinkState is unknown: its first observation decides its health directly.
type LinkState struct {
	Known   bool
	Healthy bool
	Fails   int // consecutive failed checks while healthy
	Oks     int // consecutive good checks while unhealthy
}

// Next returns the state after observation o. A healthy link turns
// unhealthy at once on Down and after th.FailCount consecutive CheckFailed;
// an unhealthy link turns healthy after th.RecoverCount consecutive
// CheckOK, and any Down or CheckFailed restarts that count. Counts below 1
// are taken as 1.
func (s LinkState) Next(o Observation, th Thresholds) LinkState {
	fail, recover := max(th.FailCount, 1), max(th.RecoverCount, 1)
	if !s.Known {
		return LinkState{Known: true, Healthy: o == CheckOK}
	}
	if s.Healthy {
		switch o {
		case Down:
			return LinkState{Known: true}
		case CheckFailed:
			s.Fails++
			if s.Fails >= fail {
				return LinkState{Known: true}
			}
			return s
		default:
			s.Fails = 0
			return s
		}
	}
	switch o {
	case CheckOK:
		s.Oks++
		if s.Oks >= recover {
			return LinkState{Known: true, Healthy: true}
		}
		return s
	default:
		s.Oks = 0
		return s
	}
}

// The node-health colours Pacemaker reads from #health-* attributes.
const (
	Green  = "green"
	Yellow = "yellow"
	Red    = "red"
)

// A Summary is what the links' states add up to.
type Summary struct {
	Healthy int    // healthy links
	Total   int    // configured links
	Value   int    // the published attribute: Healthy × multiplier
	Color   string // the health attribute
	Short   bool   // fewer than min_healthy links are healthy (monitor: degraded)
}

// Summarize adds up link health: the value is healthy × multiplier; the
// colour is red below minHealthy healthy links (or with none), yellow when
// any link is unhealthy or partial (a bond missing slaves), green
// otherwise.
func Summarize(healthy []bool, partial bool, multiplier, minHealthy int) Summary {
	s := Summary{Total: len(healthy)}
	for _, h := range healthy {
		if h {
			s.Healthy++
		}
	}
	s.Value = s.Healthy * multiplier
	s.Short = s.Healthy < minHealthy
	switch {
	case s.Short || s.Healthy == 0:
		s.Color = Red
	case s.Healthy < s.Total || partial:
		s.Color = Yellow
	default:
		s.Color = Green
	}
	return s
}

// A Coalescer decides when to push an attribute value to attrd so that
// updates happen only when the value changes, at most one runs at a time,
// and a value wanted while one runs replaces any older pending one. Updates
// are rate-limited by a token bucket: Burst updates may start at once, then
// one per MinGap, so a lone change goes out immediately even shortly after
// another, while a link flapping faster than its hysteresis allows for
// (recover_count=1) reaches attrd at most once per MinGap. A failed update
// is retried with backoff (1 s doubling to 30 s). It is driven by explicit
// times, so it has no goroutines or clocks of its own.
type Coalescer struct {
	MinGap time.Duration // one token per MinGap
	Burst  int           // most tokens saved up; 0 counts as 1

	want, done        string
	hasWant, hasDone  bool
	inflight          bool
	credit            time.Duration // tokens × MinGap, kept exact
	refilled          time.Time
	retryAt           time.Time
	failures          int
	updates, attempts int
}

// Want records v as the value the attribute should have.
func (c *Coalescer) Want(v string) { c.want, c.hasWant = v, true }

// Wanted returns the value the attribute should have.
func (c *Coalescer) Wanted() (string, bool) { return c.want, c.hasWant }

// Published returns the last value attrd accepted.
func (c *Coalescer) Published() (string, bool) { return c.done, c.hasDone }

// Pending reports whether the wanted value still has to be pushed.
func (c *Coalescer) Pending() bool {
	return c.hasWant && (!c.hasDone || c.want != c.done)
}

// Invalidate forgets what attrd holds, so the wanted value is pushed again
// (after the dampening delay changed, say).
func (c *Coalescer) Invalidate() { c.hasDone = false }

// capacity is the full bucket, Burst tokens of MinGap each.
func (c *Coalescer) capacity() time.Duration { return time.Duration(max(c.Burst, 1)) * c.MinGap }

// refill adds the credit earned since the last refill.
func (c *Coalescer) refill(now time.Time) {
	switch {
	case c.refilled.IsZero():
		c.credit = c.capacity()
	case now.After(c.refilled):
		c.credit = min(c.capacity(), c.credit+now.Sub(c.refilled))
	}
	c.refilled = now
}

// Start returns the value to push now, if an update should start at now,
// and marks it in flight.
func (c *Coalescer) Start(now time.Time) (string, bool) {
	if c.inflight || !c.Pending() || now.Before(c.retryAt) {
		return "", false
	}
	c.refill(now)
	if c.credit < c.MinGap {
		return "", false
	}
	c.credit -= c.MinGap
	c.inflight = true
	c.attempts++
	return c.want, true
}

// Wake returns when a pending update may start, if one is pending and none
// is in flight.
func (c *Coalescer) Wake() (time.Time, bool) {
	if c.inflight || !c.Pending() {
		return time.Time{}, false
	}
	at := c.refilled
	if c.credit < c.MinGap {
		at = c.refilled.Add(c.MinGap - c.credit)
	}
	if c.retryAt.After(at) {
		at = c.retryAt
	}
	return at, true
}

// Done records the end of the update started for v at now.
func (c *Coalescer) Done(v string, err error, now time.Time) {
	c.inflight = false
	if err == nil {
		c.done, c.hasDone = v, true
		c.failures = 0
		c.updates++
		return
	}
	c.failures++
	backoff := time.Second << min(c.failures-1, 5)
	c.retryAt = now.Add(min(backoff, 30*time.Second))
}

// InFlight reports whether an update runs.
func (c *Coalescer) InFlight() bool { return c.inflight }

// Updates returns how many updates succeeded, and how many were started.
func (c *Coalescer) Updates() (ok, started int) { return c.updates, c.attempts }

// A View is what the kernel says about one configured interface.
type View struct {
	Exists bool
	Index  int
	Up     bool // administratively and operationally up, with carrier
	Bond   bool
	Slaves []SlaveView // bond slaves, from the master index and sysfs
}

// A SlaveView is one bond slave's state.
type SlaveView struct {
	Name  string
	Index int
	Up    bool // up with carrier, and the bond's MII status says up
}

// Judge tells whether a link can carry traffic as far as the kernel knows
// (probes aside), whether it runs impaired (a bond missing slaves), and a
// short description for logs and monitor's exit reason. A bond needs to be
// up itself and to have at least one slave up; a bond's own carrier alone
// is not trusted, since without miimon or arp_interval it stays on.
func Judge(v View) (up, partial bool, detail string) {
	switch {
	case !v.Exists:
		return false, false, "absent"
	case !v.Up:
		return false, false, "down or no carrier"
	case !v.Bond:
		return true, false, "up"
	case len(v.Slaves) == 0:
		return false, false, "bond without slaves"
	}
	active := 0
	var down []string
	for _, s := range v.Slaves {
		if s.Up {
			active++
		} else {
			down = append(down, s.Name)
		}
	}
	if active == 0 {
		return false, false, fmt.Sprintf("bond with no slave up (%s down)", strings.Join(down, ", "))
	}
	if len(down) > 0 {
		return true, true, fmt.Sprintf("bond up, %d/%d slaves up (%s down)", active, len(v.Slaves), strings.Join(down, ", "))
	}
	return true, false, fmt.Sprintf("bond up, %d/%d slaves up", active, len(v.Slaves))
}
