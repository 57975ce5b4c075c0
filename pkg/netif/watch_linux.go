package netif

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrDADFailed is wrapped by WaitDAD's error when duplicate address
// detection found another owner of the address (IFA_F_DADFAILED, ip(8)
// "dadfailed").
var ErrDADFailed = errors.New("duplicate address detected")

// A LinkEvent is a hint that a link changed, with the link's state as the
// event carried it. Act on state re-read from the kernel, not on the event:
// events coalesce, arrive late, and are lost when the socket overflows (the
// subscription then resyncs and says so).
type LinkEvent struct {
	// Index and Name identify the link.
	Index int
	Name  string
	// OperState is IFLA_OPERSTATE.
	OperState netlink.LinkOperState
	// Flags and RawFlags are the interface flags (IFF_UP, …).
	Flags    net.Flags
	RawFlags uint32
	// Carrier is IFF_LOWER_UP.
	Carrier bool
	// MasterIndex is the index of the bond or bridge the link is enslaved
	// to, or 0.
	MasterIndex int
	// Deleted is set when the link was removed (RTM_DELLINK).
	Deleted bool
	// Resync marks a synthetic event with no link: the kernel dropped the
	// subscription (typically ENOBUFS on overflow) and it was renewed, so
	// changes may have been missed; re-read every link of interest.
	Resync bool
}

// subscription is one netlink subscription: ch is closed by netlink once
// done is closed (or the socket fails).
type subscription[T any] struct {
	ch       chan T
	done     chan struct{}
	stopOnce sync.Once
}

// stop ends the subscription and drains ch until netlink closes it, so
// netlink's goroutine never blocks on a send nobody reads. stop is
// idempotent, and a nil subscription is stopped already.
func (s *subscription[T]) stop() {
	if s == nil {
		return
	}
	s.stopOnce.Do(func() { close(s.done) })
	for range s.ch {
	}
}

// subscribeFunc opens a subscription delivering to ch until done closes;
// errors the subscription meets later go to cb.
type subscribeFunc[T any] func(ch chan<- T, done <-chan struct{}, cb func(error)) error

// open starts a subscription. Errors reported after done is closed (netlink
// calls back "Receive failed" on shutdown) are dropped; others go to onError
// when it is not nil.
func open[T any](subscribe subscribeFunc[T], onError func(error)) (*subscription[T], error) {
	s := &subscription[T]{ch: make(chan T, 64), done: make(chan struct{})}
	cb := func(err error) {
		select {
		case <-s.done:
			return
		default:
		}
		if onError != nil {
			onError(err)
		}
	}
	if err := subscribe(s.ch, s.done, cb); err != nil {
		// Releases the socket if netlink got that far; its receiving
		// goroutine never started, so there is nothing to drain.
		close(s.done)
		return nil, err
	}
	return s, nil
}

// reopen renews a subscription whose channel closed, retrying with backoff
// until it succeeds or ctx ends.
func reopen[T any](ctx context.Context, subscribe subscribeFunc[T], onError func(error)) (*subscription[T], error) {
	delay := 10 * time.Millisecond
	for {
		s, err := open(subscribe, onError)
		if err == nil {
			return s, nil
		}
		if onError != nil {
			onError(fmt.Errorf("resubscribe: %w", err))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// linkSubscriber returns the subscribeFunc for link events in the Handle's
// namespace, listing existing links first.
func (h *Handle) linkSubscriber() subscribeFunc[netlink.LinkUpdate] {
	return func(ch chan<- netlink.LinkUpdate, done <-chan struct{}, cb func(error)) error {
		return netlink.LinkSubscribeWithOptions(ch, done, netlink.LinkSubscribeOptions{
			Namespace:     h.subscribeNS(),
			ErrorCallback: cb,
			ListExisting:  true,
		})
	}
}

// addrSubscriber returns the subscribeFunc for address events in the
// Handle's namespace.
func (h *Handle) addrSubscriber() subscribeFunc[netlink.AddrUpdate] {
	return func(ch chan<- netlink.AddrUpdate, done <-chan struct{}, cb func(error)) error {
		return netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{
			Namespace:     h.subscribeNS(),
			ErrorCallback: cb,
		})
	}
}

// SubscribeLinks delivers link events of the Handle's namespace until ctx
// ends, then closes the channel. It starts with one event per existing link,
// then one per change (RTM_NEWLINK, RTM_DELLINK). When the kernel drops the
// subscription it is renewed, with a Resync event, then existing links are
// listed again. onError, if not nil, is called from another goroutine with
// the problems met on the way (an interrupted initial listing, a dropped or
// failed subscription); the channel stays open through them. The receiver
// must keep reading until the channel closes or ctx ends.
// Equivalent to: ip monitor link.
func (h *Handle) SubscribeLinks(ctx context.Context, onError func(error)) (<-chan LinkEvent, error) {
	return subscribeLinks(ctx, h.linkSubscriber(), onError)
}

// subscribeLinks is SubscribeLinks over any subscribeFunc, for tests.
func subscribeLinks(ctx context.Context, subscribe subscribeFunc[netlink.LinkUpdate], onError func(error)) (<-chan LinkEvent, error) {
	sub, err := open(subscribe, onError)
	if err != nil {
		return nil, fmt.Errorf("subscribe to link events: %w", err)
	}
	out := make(chan LinkEvent, 16)
	go func() {
		defer close(out)
		defer func() { sub.stop() }()
		send := func(ev LinkEvent) bool {
			select {
			case out <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-sub.ch:
				if ok {
					if !send(linkEvent(u)) {
						return
					}
					continue
				}
				// netlink closed the channel without being asked to:
				// the socket failed. Renew it.
				sub.stop()
				if onError != nil {
					onError(errors.New("link subscription dropped; resubscribing"))
				}
				sub, err = reopen(ctx, subscribe, onError)
				if err != nil {
					return
				}
				if !send(LinkEvent{Resync: true}) {
					return
				}
			}
		}
	}()
	return out, nil
}

func linkEvent(u netlink.LinkUpdate) LinkEvent {
	a := u.Link.Attrs()
	return LinkEvent{
		Index:       a.Index,
		Name:        a.Name,
		OperState:   a.OperState,
		Flags:       a.Flags,
		RawFlags:    a.RawFlags,
		Carrier:     a.RawFlags&unix.IFF_LOWER_UP != 0,
		MasterIndex: a.MasterIndex,
		Deleted:     u.Header.Type == unix.RTM_DELLINK,
	}
}

// WaitOperUp waits until the link called name exists and IsUp (admin up and
// oper up, or unknown with carrier), and returns it as then re-read. It
// does not set the link up. It watches link events (SubscribeLinks) and
// re-reads the link on every event that may concern it, so it returns
// within milliseconds of the change. When ctx ends first, the error wraps
// ctx.Err() and tells the last state seen.
func (h *Handle) WaitOperUp(ctx context.Context, name string) (netlink.Link, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := h.SubscribeLinks(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("wait for %s to come up: %w", name, err)
	}
	defer func() {
		cancel()
		for range events {
		}
	}()

	state := "absent"
	index := -1
	check := func() (netlink.Link, error) {
		l, err := h.LinkByName(name)
		if errors.Is(err, ErrLinkNotFound) {
			state, index = "absent", -1
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("wait for %s to come up: %w", name, err)
		}
		index = l.Attrs().Index
		if IsUp(l) {
			return l, nil
		}
		state = describe(l)
		return nil, nil
	}
	if l, err := check(); l != nil || err != nil {
		return l, err
	}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %s to come up: %s: %w", name, state, ctx.Err())
		case ev, ok := <-events:
			if !ok {
				return nil, fmt.Errorf("wait for %s to come up: %s: %w", name, state, ctx.Err())
			}
			if ev.Resync || ev.Name == name || ev.Index == index {
				if l, err := check(); l != nil || err != nil {
					return l, err
				}
			}
		}
	}
}

// describe summarises a link's state for error messages.
func describe(l netlink.Link) string {
	a := l.Attrs()
	admin := "admin down"
	if a.Flags&net.FlagUp != 0 {
		admin = "admin up"
	}
	carrier := "no carrier"
	if HasCarrier(l) {
		carrier = "carrier"
	}
	return fmt.Sprintf("%s, oper %s, %s", admin, a.OperState, carrier)
}

// WaitDAD waits for IPv6 duplicate address detection of ip on link to end:
// nil when the address is no longer tentative, an error wrapping
// ErrDADFailed when the kernel marked it dadfailed (it stays configured,
// flagged, until deleted), one wrapping ErrAddrNotFound when it is absent or
// disappears. IPv4 addresses, and IPv6 ones added with NoDAD, return nil at
// once. The address is re-read on every address event of link. When ctx
// ends first, the error wraps ctx.Err(). Equivalent to polling
// ip -6 addr show dev $link to $ip for tentative or dadfailed.
func (h *Handle) WaitDAD(ctx context.Context, link netlink.Link, ip netip.Addr) error {
	name := link.Attrs().Name
	ip = ip.WithZone("").Unmap()
	subscribe := h.addrSubscriber()
	sub, err := open(subscribe, nil)
	if err != nil {
		return fmt.Errorf("wait for DAD of %s on %s: subscribe to address events: %w", ip, name, err)
	}
	defer func() { sub.stop() }()

	check := func() (done bool, err error) {
		family := netlink.FAMILY_V6
		if ip.Is4() {
			family = netlink.FAMILY_V4
		}
		addrs, err := h.Addrs(link, family)
		if err != nil {
			return true, fmt.Errorf("wait for DAD of %s on %s: %w", ip, name, err)
		}
		for _, a := range addrs {
			if got, ok := netip.AddrFromSlice(a.IP); !ok || got.Unmap() != ip {
				continue
			}
			switch {
			case a.Flags&unix.IFA_F_DADFAILED != 0:
				return true, fmt.Errorf("wait for DAD of %s on %s: %w", ip, name, ErrDADFailed)
			case a.Flags&unix.IFA_F_TENTATIVE != 0:
				return false, nil
			}
			return true, nil
		}
		return true, fmt.Errorf("wait for DAD of %s on %s: %w", ip, name, ErrAddrNotFound)
	}

	if done, err := check(); done {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for DAD of %s on %s: still tentative: %w", ip, name, ctx.Err())
		case u, ok := <-sub.ch:
			if !ok {
				sub.stop()
				if sub, err = reopen(ctx, subscribe, nil); err != nil {
					return fmt.Errorf("wait for DAD of %s on %s: still tentative: %w", ip, name, err)
				}
			} else if u.LinkIndex != link.Attrs().Index {
				continue
			}
			if done, err := check(); done {
				return err
			}
		}
	}
}
