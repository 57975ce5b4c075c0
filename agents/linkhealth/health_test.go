package linkhealth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// run feeds a sequence of observations ("D" down, "F" check failed, "O"
// check ok) and returns the health after each as a string of 'H'/'u'.
func run(th Thresholds, seq string) string {
	var s LinkState
	var b strings.Builder
	for _, c := range seq {
		var o Observation
		switch c {
		case 'D':
			o = Down
		case 'F':
			o = CheckFailed
		case 'O':
			o = CheckOK
		default:
			panic("bad observation " + string(c))
		}
		s = s.Next(o, th)
		if s.Healthy {
			b.WriteByte('H')
		} else {
			b.WriteByte('u')
		}
	}
	return b.String()
}

func TestLinkStateNext(t *testing.T) {
	tests := []struct {
		name string
		th   Thresholds
		seq  string
		want string
	}{
		{"first observation decides: ok", Thresholds{3, 3}, "O", "H"},
		{"first observation decides: down", Thresholds{3, 3}, "D", "u"},
		{"first observation decides: failed probe", Thresholds{3, 3}, "F", "u"},
		{"down is decisive", Thresholds{3, 3}, "OD", "Hu"},
		{"fail_count consecutive failures", Thresholds{3, 3}, "OFFF", "HHHu"},
		{"a success resets the failures", Thresholds{3, 3}, "OFFOFFOFF", "HHHHHHHHH"},
		{"fail_count 1", Thresholds{1, 3}, "OF", "Hu"},
		{"recover_count consecutive successes", Thresholds{3, 3}, "DOOO", "uuuH"},
		{"a failure resets the recovery", Thresholds{3, 3}, "DOOFOOO", "uuuuuuH"},
		{"down resets the recovery", Thresholds{3, 3}, "DOODOOO", "uuuuuuH"},
		{"recover_count 1", Thresholds{3, 1}, "DO", "uH"},
		{"flapping never recovers", Thresholds{3, 2}, "ODODODODOD", "Huuuuuuuuu"},
		{"flapping with recover_count 1 follows the link", Thresholds{3, 1}, "ODODOD", "HuHuHu"},
		{"counts below 1 count as 1", Thresholds{0, 0}, "OFO", "HuH"},
		{"failures while unhealthy do not matter", Thresholds{2, 2}, "FFFFOO", "uuuuuH"},
		{"successes while healthy keep it healthy", Thresholds{2, 2}, "OOOOF", "HHHHH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.th, tt.seq); got != tt.want {
				t.Errorf("%s with %+v: got %s, want %s", tt.seq, tt.th, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		healthy     []bool
		partial     bool
		mult, min   int
		value       int
		color       string
		short       bool
		description string
	}{
		{[]bool{true, true}, false, 1, 1, 2, Green, false, "all healthy"},
		{[]bool{true, true}, true, 1, 1, 2, Yellow, false, "a bond missing slaves"},
		{[]bool{true, false}, false, 100, 1, 100, Yellow, false, "one of two, multiplier"},
		{[]bool{true, false}, false, 1, 2, 1, Red, true, "below min_healthy"},
		{[]bool{false, false}, false, 1, 0, 0, Red, false, "none healthy, min_healthy 0"},
		{[]bool{false}, false, 5, 1, 0, Red, true, "one link down"},
		{[]bool{true}, false, 5, 1, 5, Green, false, "one link up"},
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			s := Summarize(tt.healthy, tt.partial, tt.mult, tt.min)
			if s.Value != tt.value || s.Color != tt.color || s.Short != tt.short || s.Total != len(tt.healthy) {
				t.Errorf("Summarize(%v, %v, %d, %d) = %+v, want value %d color %s short %v",
					tt.healthy, tt.partial, tt.mult, tt.min, s, tt.value, tt.color, tt.short)
			}
		})
	}
}

func TestCoalescer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := Coalescer{MinGap: 100 * time.Millisecond}
	if _, ok := c.Start(t0); ok {
		t.Fatal("Start with nothing wanted started an update")
	}
	c.Want("1")
	v, ok := c.Start(t0)
	if !ok || v != "1" {
		t.Fatalf("Start = %q, %v; want 1, true", v, ok)
	}
	// Changes while it runs are merged: only the latest is pushed next.
	c.Want("0")
	c.Want("2")
	if _, ok := c.Start(t0.Add(time.Millisecond)); ok {
		t.Fatal("second update started while one runs")
	}
	c.Done("1", nil, t0.Add(20*time.Millisecond))
	if _, ok := c.Start(t0.Add(50 * time.Millisecond)); ok {
		t.Fatal("update started within MinGap")
	}
	if at, ok := c.Wake(); !ok || !at.Equal(t0.Add(100*time.Millisecond)) {
		t.Fatalf("Wake = %v, %v; want %v", at, ok, t0.Add(100*time.Millisecond))
	}
	if v, ok := c.Start(t0.Add(100 * time.Millisecond)); !ok || v != "2" {
		t.Fatalf("Start after MinGap = %q, %v; want 2", v, ok)
	}
	c.Done("2", nil, t0.Add(120*time.Millisecond))
	// Back to a published value: nothing to do.
	c.Want("0")
	c.Want("2")
	if c.Pending() {
		t.Fatal("pending although the wanted value is published")
	}
	// A failure is retried after a backoff of 1 s, then 2 s.
	c.Want("3")
	t1 := t0.Add(time.Second)
	if _, ok := c.Start(t1); !ok {
		t.Fatal("no update for a new value")
	}
	c.Done("3", errors.New("attrd down"), t1)
	if _, ok := c.Start(t1.Add(500 * time.Millisecond)); ok {
		t.Fatal("retry before the backoff")
	}
	if _, ok := c.Start(t1.Add(time.Second)); !ok {
		t.Fatal("no retry after 1 s")
	}
	c.Done("3", errors.New("attrd down"), t1.Add(time.Second))
	if at, _ := c.Wake(); !at.Equal(t1.Add(3 * time.Second)) {
		t.Fatalf("second retry at %v, want %v", at, t1.Add(3*time.Second))
	}
	// Invalidate forces the same value out again.
	if _, ok := c.Start(t1.Add(3 * time.Second)); !ok {
		t.Fatal("no second retry")
	}
	c.Done("3", nil, t1.Add(3*time.Second))
	c.Invalidate()
	if !c.Pending() {
		t.Fatal("not pending after Invalidate")
	}
	if ok, started := c.Updates(); ok != 3 || started != 5 {
		t.Fatalf("Updates = %d ok of %d, want 3 of 5", ok, started)
	}
}

func TestCoalescerBurst(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := Coalescer{MinGap: 100 * time.Millisecond, Burst: 3}
	now := t0
	for i := range 3 {
		c.Want(strconv.Itoa(i))
		if _, ok := c.Start(now); !ok {
			t.Fatalf("update %d of the burst did not start", i)
		}
		now = now.Add(5 * time.Millisecond)
		c.Done(strconv.Itoa(i), nil, now)
	}
	c.Want("x")
	if _, ok := c.Start(now); ok {
		t.Fatal("a fourth update started within the burst")
	}
	at, ok := c.Wake()
	// Three tokens spent at 0, 5 and 10 ms, refilling at one per 100 ms:
	// the next is whole at 100 ms.
	if want := t0.Add(100 * time.Millisecond); !ok || !at.Equal(want) {
		t.Fatalf("Wake = %v, %v; want %v", at, ok, want)
	}
	if _, ok := c.Start(at); !ok {
		t.Fatal("no update once a token is earned")
	}
	c.Done("x", nil, at)
	// After a quiet second the whole burst is available again.
	later := at.Add(time.Second)
	for i := range 3 {
		c.Want("q" + strconv.Itoa(i))
		if _, ok := c.Start(later); !ok {
			t.Fatalf("after a quiet second, update %d did not start at once", i)
		}
		c.Done("q"+strconv.Itoa(i), nil, later)
	}
}

// simulate drives one link through the state machine and a Coalescer the
// way the watcher does: events at given times, a check every interval, each
// attrd_updater run taking runTime. It returns the values pushed.
func simulate(th Thresholds, interval, runTime time.Duration, events []simEvent, until time.Duration) []string {
	t0 := time.Unix(0, 0)
	var s LinkState
	c := Coalescer{MinGap: minUpdateGap, Burst: updateBurst}
	var pushed []string
	var flying string
	var flyingEnd time.Time
	inflight := false
	up := true
	nextTick := interval
	ei := 0
	for now := time.Duration(0); now <= until; now += time.Millisecond {
		at := t0.Add(now)
		if inflight && !at.Before(flyingEnd) {
			c.Done(flying, nil, at)
			inflight = false
		}
		for ei < len(events) && events[ei].at <= now {
			up = events[ei].up
			if up {
				s = s.Next(CheckOK, th)
			} else {
				s = s.Next(Down, th)
			}
			ei++
		}
		if now >= nextTick {
			if up && !s.Healthy {
				s = s.Next(CheckOK, th)
			}
			nextTick += interval
		}
		if s.Known {
			c.Want(strconv.Itoa(map[bool]int{true: 1, false: 0}[s.Healthy]))
		}
		if v, ok := c.Start(at); ok {
			pushed = append(pushed, v)
			flying, flyingEnd, inflight = v, at.Add(runTime), true
		}
	}
	return pushed
}

type simEvent struct {
	at time.Duration
	up bool
}

// flaps returns n down/up flaps within one second, starting at start.
func flaps(start time.Duration, n int) []simEvent {
	var ev []simEvent
	step := time.Second / time.Duration(2*n)
	for i := range n {
		ev = append(ev, simEvent{start + time.Duration(2*i)*step, false}, simEvent{start + time.Duration(2*i+1)*step, true})
	}
	return ev
}

func TestFlappingCoalesced(t *testing.T) {
	initial := []simEvent{{0, true}}
	tests := []struct {
		name     string
		th       Thresholds
		maxPush  int
		wantLast string
	}{
		// Hysteresis: the first flap makes it unhealthy, the others only
		// restart the recovery, which completes after recover_count ticks.
		{"recover_count 5", Thresholds{3, 5}, 3, "1"},
		{"recover_count 2", Thresholds{3, 2}, 3, "1"},
		// No hysteresis: every flap changes the health, so only the
		// coalescing (one run at a time; a burst of 3, then one per 100 ms)
		// limits the updates.
		{"recover_count 1", Thresholds{3, 1}, 3 + 11, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := append(initial, flaps(2*time.Second, 100)...)
			pushed := simulate(tt.th, time.Second, 20*time.Millisecond, ev, 12*time.Second)
			if len(pushed) > tt.maxPush {
				t.Errorf("100 flaps in a second: %d updates %v, want at most %d", len(pushed), pushed, tt.maxPush)
			}
			if len(pushed) < 2 || pushed[0] != "1" || pushed[len(pushed)-1] != tt.wantLast {
				t.Errorf("updates %v: want 1 first, %s last", pushed, tt.wantLast)
			}
			if tt.th.RecoverCount > 1 && fmt.Sprint(pushed) != "[1 0 1]" {
				t.Errorf("updates %v, want [1 0 1]", pushed)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	up := func(n string, i int) SlaveView { return SlaveView{Name: n, Index: i, Up: true} }
	down := func(n string, i int) SlaveView { return SlaveView{Name: n, Index: i} }
	tests := []struct {
		name          string
		v             View
		up, partial   bool
		detailContain string
	}{
		{"absent", View{}, false, false, "absent"},
		{"down", View{Exists: true, Index: 2}, false, false, "down"},
		{"up", View{Exists: true, Index: 2, Up: true}, true, false, "up"},
		{"bond without slaves", View{Exists: true, Up: true, Bond: true}, false, false, "without slaves"},
		{"bond, all slaves down", View{Exists: true, Up: true, Bond: true, Slaves: []SlaveView{down("eth0", 3), down("eth1", 4)}}, false, false, "no slave up (eth0, eth1 down)"},
		{"bond, one of two", View{Exists: true, Up: true, Bond: true, Slaves: []SlaveView{up("eth0", 3), down("eth1", 4)}}, true, true, "1/2 slaves up (eth1 down)"},
		{"bond, all up", View{Exists: true, Up: true, Bond: true, Slaves: []SlaveView{up("eth0", 3), up("eth1", 4)}}, true, false, "2/2"},
		{"bond down, slaves up", View{Exists: true, Bond: true, Slaves: []SlaveView{up("eth0", 3)}}, false, false, "down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, partial, detail := Judge(tt.v)
			if up != tt.up || partial != tt.partial || !strings.Contains(detail, tt.detailContain) {
				t.Errorf("Judge = %v, %v, %q; want %v, %v, containing %q", up, partial, detail, tt.up, tt.partial, tt.detailContain)
			}
		})
	}
}
