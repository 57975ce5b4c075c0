package garp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// announcer is what Announce needs of a Sender; tests fake it.
type announcer interface {
	IP() netip.Addr
	Request() error
	Reply() error
	Advertise() error
}

// Announce sends count rounds of announcements for the Sender's address,
// interval apart, as IPaddr2's send_arp and send_ua do. An IPv4 round is an
// ARP request, interval/2, an ARP reply, interval/2; an IPv6 round is one
// Neighbor Advertisement, then interval. There is no wait after the last
// frame, so count rounds take (2·count-1)·interval/2 for IPv4 and
// (count-1)·interval for IPv6. Frames are scheduled from the start time,
// so slow sends do not stretch the rhythm.
//
// Every send error is kept and returned joined (errors.Join); a failed frame
// does not stop the rounds. When ctx ends, Announce stops at once and the
// result includes ctx.Err().
func Announce(ctx context.Context, s *Sender, count int, interval time.Duration) error {
	return announce(ctx, s, count, interval, nil)
}

// AnnounceNotify is Announce calling notify(round, err) after each round
// (round counts from 1; err joins that round's send errors, nil if all went
// out), e.g. to log failures as they happen or to signal that the first
// round is out while the rest continue in the background. notify runs on
// Announce's goroutine and delays the next frame while it runs.
func AnnounceNotify(ctx context.Context, s *Sender, count int, interval time.Duration, notify func(round int, err error)) error {
	return announce(ctx, s, count, interval, notify)
}

func announce(ctx context.Context, s announcer, count int, interval time.Duration, notify func(int, error)) error {
	interval = max(interval, 0)
	var frames []func() error
	step := interval
	if s.IP().Is4() {
		frames = []func() error{s.Request, s.Reply}
		step = interval / 2
	} else {
		frames = []func() error{s.Advertise}
	}

	start := time.Now()
	n := 0 // frames sent or attempted so far
	var all []error
	result := func() error {
		if len(all) == 0 {
			return nil
		}
		return fmt.Errorf("announce %s: %w", s.IP(), errors.Join(all...))
	}
	for round := 1; round <= count; round++ {
		var errs []error
		for _, send := range frames {
			wait := ctx.Err()
			if n > 0 {
				wait = SleepUntil(ctx, start.Add(time.Duration(n)*step))
			}
			if wait != nil {
				all = append(append(all, errs...), wait)
				return result()
			}
			n++
			if err := send(); err != nil {
				errs = append(errs, err)
			}
		}
		all = append(all, errs...)
		if notify != nil {
			notify(round, errors.Join(errs...))
		}
	}
	return result()
}

// SleepUntil waits until t or ctx's end, returning ctx.Err() in the latter
// case. Callers keeping an announcement rhythm across processes (the vip
// agent's background sender) use it as Announce does.
func SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
