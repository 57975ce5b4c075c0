package netif

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// fakeLinks is a subscribeFunc whose n-th subscription delivers the links
// named in script[n]; if drop[n], it then closes the channel as netlink does
// when the socket fails, else it waits for done.
type fakeLinks struct {
	mu     sync.Mutex
	calls  int
	script [][]string
	drop   []bool
	fail   []error
}

func (f *fakeLinks) subscribe(ch chan<- netlink.LinkUpdate, done <-chan struct{}, cb func(error)) error {
	f.mu.Lock()
	n := f.calls
	f.calls++
	f.mu.Unlock()
	if n < len(f.fail) && f.fail[n] != nil {
		return f.fail[n]
	}
	go func() {
		defer close(ch)
		if n < len(f.script) {
			for _, name := range f.script[n] {
				u := netlink.LinkUpdate{Link: &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: name, RawFlags: unix.IFF_LOWER_UP}}}
				u.Header.Type = unix.RTM_NEWLINK
				select {
				case ch <- u:
				case <-done:
					cb(errors.New("Receive failed: closed")) // must be dropped
					return
				}
			}
		}
		if n < len(f.drop) && f.drop[n] {
			cb(errors.New("Receive failed: no buffer space available"))
			return
		}
		<-done
		cb(errors.New("Receive failed: closed")) // must be dropped
	}()
	return nil
}

func TestSubscribeLinksResync(t *testing.T) {
	f := &fakeLinks{
		script: [][]string{{"a", "b"}, nil, {"c"}},
		drop:   []bool{true},
		fail:   []error{nil, errors.New("socket: too many open files")},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var cbErrs []string
	events, err := subscribeLinks(ctx, f.subscribe, func(err error) {
		mu.Lock()
		cbErrs = append(cbErrs, err.Error())
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < 4 {
		select {
		case ev := <-events:
			switch {
			case ev.Resync:
				got = append(got, "resync")
			default:
				if !ev.Carrier {
					t.Errorf("event %s without carrier", ev.Name)
				}
				got = append(got, ev.Name)
			}
		case <-timeout:
			t.Fatalf("events so far %v", got)
		}
	}
	if want := "a | b | resync | c"; join(got) != want {
		t.Errorf("events %q, want %q", join(got), want)
	}
	cancel()
	for range events {
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"Receive failed: no buffer space available",
		"link subscription dropped; resubscribing",
		"resubscribe: socket: too many open files",
	}
	if join(cbErrs) != join(want) {
		t.Errorf("onError got %q, want %q", cbErrs, want)
	}
	if f.calls != 3 {
		t.Errorf("%d subscriptions, want 3", f.calls)
	}
}

func TestSubscribeLinksFails(t *testing.T) {
	f := &fakeLinks{fail: []error{errors.New("protocol not supported")}}
	if _, err := subscribeLinks(context.Background(), f.subscribe, nil); err == nil {
		t.Errorf("subscribeLinks succeeded with a failing subscription")
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " | "
		}
		out += x
	}
	return out
}
