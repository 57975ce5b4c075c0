package netif

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/hanet/hanet/pkg/testutil"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

func TestWaitOperUp(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	tests := []struct {
		name    string
		prepare func(t *testing.T, ns, peer netns.NsHandle) // before waiting
		act     func(t *testing.T, ns, peer netns.NsHandle) // while waiting
		timeout time.Duration
		wantErr error
	}{
		{
			name:    "already up",
			timeout: time.Second,
		},
		{
			name:    "peer comes up",
			prepare: func(t *testing.T, ns, peer netns.NsHandle) { testutil.SetDown(t, peer, "vb") },
			act:     func(t *testing.T, ns, peer netns.NsHandle) { testutil.SetUp(t, peer, "vb") },
			timeout: 5 * time.Second,
		},
		{
			name:    "link set up",
			prepare: func(t *testing.T, ns, peer netns.NsHandle) { testutil.SetDown(t, ns, "va") },
			act:     func(t *testing.T, ns, peer netns.NsHandle) { testutil.SetUp(t, ns, "va") },
			timeout: 5 * time.Second,
		},
		{
			name:    "peer stays down",
			prepare: func(t *testing.T, ns, peer netns.NsHandle) { testutil.SetDown(t, peer, "vb") },
			timeout: 150 * time.Millisecond,
			wantErr: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, peer := testutil.NewNS(t), testutil.NewNS(t)
			testutil.Veth(t, ns, "va", peer, "vb")
			if tt.prepare != nil {
				tt.prepare(t, ns, peer)
			}
			h := openAt(t, ns)
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			type result struct {
				link netlink.Link
				err  error
			}
			done := make(chan result, 1)
			go func() {
				l, err := h.WaitOperUp(ctx, "va")
				done <- result{l, err}
			}()
			if tt.act != nil {
				time.Sleep(50 * time.Millisecond)
				select {
				case r := <-done:
					t.Fatalf("WaitOperUp returned before the link came up: %v, %v", r.link, r.err)
				default:
				}
				tt.act(t, ns, peer)
			}
			r := <-done
			if !errors.Is(r.err, tt.wantErr) {
				t.Fatalf("WaitOperUp = %v, want error %v", r.err, tt.wantErr)
			}
			if r.err == nil && (r.link.Attrs().Name != "va" || !IsUp(r.link)) {
				t.Errorf("WaitOperUp returned %s, oper %s", r.link.Attrs().Name, r.link.Attrs().OperState)
			}
			if r.err != nil {
				t.Logf("error: %v", r.err)
			}
		})
	}
}

func TestWaitOperUpLinkAppears(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	ns, peer := testutil.NewNS(t), testutil.NewNS(t)
	h := openAt(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := h.WaitOperUp(ctx, "va")
		done <- err
	}()
	time.Sleep(30 * time.Millisecond)
	testutil.Veth(t, ns, "va", peer, "vb")
	if err := <-done; err != nil {
		t.Fatalf("WaitOperUp: %v", err)
	}
}

// dadFast makes IPv6 DAD on link name in ns take about 50 ms: no random
// initial delay, 50 ms retransmission timer, one probe.
func dadFast(t *testing.T, ns netns.NsHandle, name string) {
	t.Helper()
	testutil.Sysctl(t, ns, "net.ipv6.conf."+name+".router_solicitation_delay", "0")
	testutil.Sysctl(t, ns, "net.ipv6.neigh."+name+".retrans_time_ms", "50")
	testutil.Sysctl(t, ns, "net.ipv6.conf."+name+".dad_transmits", "1")
}

func TestWaitDAD(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	tests := []struct {
		name    string
		prepare func(t *testing.T, ns, peer netns.NsHandle)
		ip      string
		opts    AddrOpts
		add     bool
		timeout time.Duration
		wantErr error
	}{
		{name: "success", ip: "2001:db8::10", add: true, timeout: 5 * time.Second},
		{name: "nodad", ip: "2001:db8::10", add: true, opts: AddrOpts{NoDAD: true}, timeout: time.Second},
		{
			name: "duplicate on peer",
			prepare: func(t *testing.T, ns, peer netns.NsHandle) {
				testutil.AddAddr(t, peer, "vb", "2001:db8::10/64") // nodad: owns it at once
			},
			ip: "2001:db8::10", add: true, timeout: 5 * time.Second, wantErr: ErrDADFailed,
		},
		{
			// DAD waits for the link to be ready; a carrier lost after
			// that does not hold it back, an admin-down link does.
			name: "link down: stays tentative",
			prepare: func(t *testing.T, ns, peer netns.NsHandle) {
				testutil.SetDown(t, ns, "va")
			},
			ip: "2001:db8::10", add: true, timeout: 200 * time.Millisecond, wantErr: context.DeadlineExceeded,
		},
		{name: "absent", ip: "2001:db8::11", timeout: time.Second, wantErr: ErrAddrNotFound},
		{name: "IPv4", ip: "192.0.2.1", add: true, timeout: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, peer := testutil.NewNS(t), testutil.NewNS(t)
			testutil.Veth(t, ns, "va", peer, "vb")
			dadFast(t, ns, "va")
			if tt.prepare != nil {
				tt.prepare(t, ns, peer)
			}
			h := openAt(t, ns)
			va := testutil.Link(t, ns, "va")
			ip := netip.MustParseAddr(tt.ip)
			if tt.add {
				bits := 64
				if ip.Is4() {
					bits = 24
				}
				if err := h.AddrReplace(va, netip.PrefixFrom(ip, bits), tt.opts); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			start := time.Now()
			err := h.WaitDAD(ctx, va, ip)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WaitDAD = %v, want error %v", err, tt.wantErr)
			}
			t.Logf("WaitDAD after %v: %v", time.Since(start).Round(time.Millisecond), err)
			if errors.Is(err, ErrDADFailed) {
				// The address stays, flagged, until deleted.
				if _, a, err := h.FindAddr(ip); err != nil || a == nil {
					t.Errorf("dadfailed address gone: %v", err)
				}
			}
		})
	}
}

func TestSubscribeLinks(t *testing.T) {
	testutil.SkipUnlessRoot(t)
	ns, peer := testutil.NewNS(t), testutil.NewNS(t)
	testutil.Veth(t, ns, "va", peer, "vb")
	h := openAt(t, ns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cbErrs []error
	events, err := h.SubscribeLinks(ctx, func(err error) { cbErrs = append(cbErrs, err) })
	if err != nil {
		t.Fatal(err)
	}
	next := func(what string, match func(LinkEvent) bool) LinkEvent {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("channel closed waiting for %s", what)
				}
				if match(ev) {
					return ev
				}
			case <-timeout:
				t.Fatalf("no event: %s", what)
			}
		}
	}
	va := testutil.Link(t, ns, "va")
	// Existing links first.
	next("existing lo", func(ev LinkEvent) bool { return ev.Name == "lo" })
	ev := next("existing va", func(ev LinkEvent) bool { return ev.Name == "va" })
	if ev.Index != va.Attrs().Index || !ev.Carrier || ev.OperState != netlink.OperUp || ev.Flags&net.FlagUp == 0 || ev.Deleted {
		t.Errorf("existing va event = %+v", ev)
	}
	// Carrier loss.
	testutil.SetDown(t, peer, "vb")
	ev = next("va loses carrier", func(ev LinkEvent) bool { return ev.Name == "va" && !ev.Carrier })
	if ev.Flags&net.FlagUp == 0 || ev.OperState == netlink.OperUp {
		t.Errorf("carrier-loss event = %+v", ev)
	}
	// Enslaving shows the master.
	br := &netlink.Bridge{LinkAttrs: netlink.NewLinkAttrs()}
	br.Name = "br0"
	nh := testutil.Handle(t, ns)
	if err := nh.LinkAdd(br); err != nil {
		t.Fatal(err)
	}
	brl := testutil.Link(t, ns, "br0")
	if err := nh.LinkSetMaster(va, brl); err != nil {
		t.Fatal(err)
	}
	next("va enslaved", func(ev LinkEvent) bool { return ev.Name == "va" && ev.MasterIndex == brl.Attrs().Index })
	// Deletion.
	if err := nh.LinkDel(va); err != nil {
		t.Fatal(err)
	}
	next("va deleted", func(ev LinkEvent) bool { return ev.Name == "va" && ev.Deleted })

	cancel()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				if len(cbErrs) > 0 {
					t.Errorf("error callback called: %v", cbErrs)
				}
				return
			}
		case <-timeout:
			t.Fatal("channel not closed after cancel")
		}
	}
}
