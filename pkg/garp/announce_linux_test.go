package garp

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAnnouncer records the frames Announce asks for and when.
type fakeAnnouncer struct {
	ip      netip.Addr
	fail    map[string]error
	mu      sync.Mutex
	sent    []string
	times   []time.Time
	onFrame func(n int)
}

func (f *fakeAnnouncer) IP() netip.Addr { return f.ip }
func (f *fakeAnnouncer) record(kind string) error {
	f.mu.Lock()
	f.sent = append(f.sent, kind)
	f.times = append(f.times, time.Now())
	n := len(f.sent)
	f.mu.Unlock()
	if f.onFrame != nil {
		f.onFrame(n)
	}
	return f.fail[kind]
}
func (f *fakeAnnouncer) Request() error   { return f.record("request") }
func (f *fakeAnnouncer) Reply() error     { return f.record("reply") }
func (f *fakeAnnouncer) Advertise() error { return f.record("advertise") }

func TestAnnounce(t *testing.T) {
	errDown := errors.New("network is down")
	tests := []struct {
		name     string
		ip       string
		count    int
		interval time.Duration
		fail     map[string]error
		want     string
		wantErrs int
		step     time.Duration
	}{
		{name: "IPv4 rhythm", ip: "192.0.2.1", count: 3, interval: 40 * time.Millisecond,
			want: "request reply request reply request reply", step: 20 * time.Millisecond},
		{name: "IPv6 rhythm", ip: "2001:db8::1", count: 3, interval: 20 * time.Millisecond,
			want: "advertise advertise advertise", step: 20 * time.Millisecond},
		{name: "zero count", ip: "192.0.2.1", count: 0, interval: time.Second, want: ""},
		{name: "zero interval", ip: "192.0.2.1", count: 2, want: "request reply request reply"},
		{name: "errors kept, rounds go on", ip: "192.0.2.1", count: 2, interval: 2 * time.Millisecond,
			fail: map[string]error{"reply": errDown}, want: "request reply request reply", wantErrs: 2},
		{name: "IPv6 errors", ip: "2001:db8::1", count: 2, fail: map[string]error{"advertise": errDown},
			want: "advertise advertise", wantErrs: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAnnouncer{ip: netip.MustParseAddr(tt.ip), fail: tt.fail}
			var rounds []int
			var roundErrs int
			start := time.Now()
			err := announce(context.Background(), f, tt.count, tt.interval, func(r int, err error) {
				rounds = append(rounds, r)
				if err != nil {
					roundErrs++
				}
			})
			elapsed := time.Since(start)
			if got := strings.Join(f.sent, " "); got != tt.want {
				t.Errorf("frames %q, want %q", got, tt.want)
			}
			if len(rounds) != tt.count {
				t.Errorf("notify rounds %v, want %d", rounds, tt.count)
			}
			if tt.wantErrs == 0 && err != nil {
				t.Errorf("announce: %v", err)
			}
			if tt.wantErrs > 0 {
				if !errors.Is(err, errDown) || strings.Count(err.Error(), "network is down") != tt.wantErrs || roundErrs != tt.count {
					t.Errorf("announce error %q (%d failed rounds), want %d joined errors", err, roundErrs, tt.wantErrs)
				}
			}
			// Frames are scheduled step apart from the start: no wait
			// after the last one.
			if tt.step > 0 {
				for i := 1; i < len(f.times); i++ {
					want := start.Add(time.Duration(i) * tt.step)
					if f.times[i].Before(want) {
						t.Errorf("frame %d at %v, before its slot %v", i, f.times[i].Sub(start), want.Sub(start))
					}
				}
				total := time.Duration(len(f.sent)-1) * tt.step
				if elapsed < total || elapsed > total+200*time.Millisecond {
					t.Errorf("took %v, want about %v", elapsed, total)
				}
			}
		})
	}
}

func TestAnnounceContext(t *testing.T) {
	f := &fakeAnnouncer{ip: netip.MustParseAddr("192.0.2.1")}
	ctx, cancel := context.WithCancel(context.Background())
	f.onFrame = func(n int) {
		if n == 1 {
			cancel() // during the half-hour wait for the reply
		}
	}
	start := time.Now()
	err := announce(ctx, f, 5, time.Hour, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("announce = %v, want context.Canceled", err)
	}
	if len(f.sent) != 1 || time.Since(start) > time.Second {
		t.Errorf("sent %d frames in %v after cancel at the first", len(f.sent), time.Since(start))
	}
	// Already ended: nothing is sent.
	f2 := &fakeAnnouncer{ip: netip.MustParseAddr("2001:db8::1")}
	if err := announce(ctx, f2, 5, 0, nil); !errors.Is(err, context.Canceled) || len(f2.sent) != 0 {
		t.Errorf("announce on an ended context = %v, sent %d", err, len(f2.sent))
	}
}
