package garp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/hanet/hanet/pkg/testutil"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// world is our namespace with va, and a peer namespace with vb, both up.
type world struct {
	ns, peer netns.NsHandle
	ifi      *net.Interface // va, as seen inside ns
	peerMAC  net.HardwareAddr
}

func newWorld(t *testing.T) *world {
	t.Helper()
	testutil.SkipUnlessRoot(t)
	w := &world{ns: testutil.NewNS(t), peer: testutil.NewNS(t)}
	_, vb := testutil.Veth(t, w.ns, "va", w.peer, "vb")
	w.peerMAC = vb.Attrs().HardwareAddr
	w.ifi = iface(t, w.ns, "va")
	return w
}

func iface(t *testing.T, ns netns.NsHandle, name string) *net.Interface {
	t.Helper()
	var ifi *net.Interface
	err := testutil.Do(t, ns, func() (err error) {
		ifi, err = net.InterfaceByName(name)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ifi
}

// open opens a Sender inside w.ns.
func (w *world) open(t *testing.T, ip string) *Sender {
	t.Helper()
	var s *Sender
	err := testutil.Do(t, w.ns, func() (err error) {
		s, err = Open(w.ifi, netip.MustParseAddr(ip))
		return err
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fromUs keeps the captured frames sent from mac.
func fromUs(frames []testutil.Frame, mac net.HardwareAddr, keep func([]byte) bool) []testutil.Frame {
	var out []testutil.Frame
	for _, f := range frames {
		if len(f.Data) >= 14 && bytes.Equal(f.Data[6:12], mac) && keep(f.Data) {
			out = append(out, f)
		}
	}
	return out
}

// checkSpacing wants consecutive frames step apart, within scheduling slack.
func checkSpacing(t *testing.T, frames []testutil.Frame, step time.Duration) {
	t.Helper()
	for i := 1; i < len(frames); i++ {
		gap := frames[i].Time.Sub(frames[i-1].Time)
		if gap < step*6/10 || gap > step*2 {
			t.Errorf("frames %d-%d: %v apart, want about %v", i-1, i, gap, step)
		}
	}
}

func TestAnnounceIPv4Frames(t *testing.T) {
	w := newWorld(t)
	c := testutil.StartCapture(t, w.peer, "vb", testutil.EtherTypeARP)
	s := w.open(t, "192.0.2.10") // va has no IPv4 address at all
	const count, interval = 3, 100 * time.Millisecond
	start := time.Now()
	if err := Announce(context.Background(), s, count, interval); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	if d := time.Since(start); d < 5*interval/2 || d > 5*interval/2+500*time.Millisecond {
		t.Errorf("Announce took %v, want about %v", d, 5*interval/2)
	}
	isARP := func(b []byte) bool { _, ok := parseARP(b); return ok }
	frames, ok := c.Wait(time.Second, func(f []testutil.Frame) bool { return len(fromUs(f, w.ifi.HardwareAddr, isARP)) >= 2*count })
	frames = fromUs(frames, w.ifi.HardwareAddr, isARP)
	if !ok || len(frames) != 2*count {
		t.Fatalf("peer saw %d frames, want %d", len(frames), 2*count)
	}
	req, _ := requestFrame(w.ifi.HardwareAddr, netip.MustParseAddr("192.0.2.10"))
	rep, _ := replyFrame(w.ifi.HardwareAddr, netip.MustParseAddr("192.0.2.10"))
	for i, f := range frames {
		want := req
		if i%2 == 1 {
			want = rep
		}
		if !bytes.Equal(f.Data, want) {
			t.Errorf("frame %d\n got %x\nwant %x", i, f.Data, want)
		}
	}
	checkSpacing(t, frames, interval/2)
}

func TestAnnounceIPv6Frames(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, w *world)
		wantSrc string
	}{
		{
			name: "from the VIP",
			prepare: func(t *testing.T, w *world) {
				testutil.AddAddr(t, w.ns, "va", "2001:db8::10/64") // nodad
			},
			wantSrc: "2001:db8::10",
		},
		{
			name: "tentative VIP: from link-local",
			prepare: func(t *testing.T, w *world) {
				testutil.AddAddr(t, w.ns, "va", "fe80::aa/64") // nodad
				// Default DAD: tentative for one to two seconds.
				h := testutil.Handle(t, w.ns)
				va := testutil.Link(t, w.ns, "va")
				a := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("2001:db8::10"), Mask: net.CIDRMask(64, 128)}}
				if err := h.AddrAdd(va, a); err != nil {
					t.Fatal(err)
				}
			},
			wantSrc: "fe80::aa",
		},
		{
			name:    "VIP not configured",
			wantSrc: "2001:db8::10",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.prepare != nil {
				tt.prepare(t, w)
			}
			c := testutil.StartCapture(t, w.peer, "vb", testutil.EtherTypeIPv6)
			s := w.open(t, "2001:db8::10")
			const count, interval = 3, 50 * time.Millisecond
			if err := Announce(context.Background(), s, count, interval); err != nil {
				t.Fatalf("Announce: %v", err)
			}
			isNA := func(b []byte) bool {
				p, ok := parseNDP(b)
				return ok && p.msg.typ == icmpTypeNA && p.msg.target == netip.MustParseAddr("2001:db8::10")
			}
			frames, ok := c.Wait(time.Second, func(f []testutil.Frame) bool { return len(fromUs(f, w.ifi.HardwareAddr, isNA)) >= count })
			frames = fromUs(frames, w.ifi.HardwareAddr, isNA)
			if !ok || len(frames) != count {
				t.Fatalf("peer saw %d advertisements, want %d", len(frames), count)
			}
			want, _ := naFrame(w.ifi.HardwareAddr, netip.MustParseAddr(tt.wantSrc), netip.MustParseAddr("2001:db8::10"))
			for i, f := range frames {
				if !bytes.Equal(f.Data, want) {
					t.Errorf("advertisement %d\n got %x\nwant %x", i, f.Data, want)
				}
			}
			checkSpacing(t, frames, interval)
		})
	}
}

// neighMAC returns the peer's neighbour entry for ip on vb.
func neighMAC(t *testing.T, w *world, ip net.IP) (net.HardwareAddr, int) {
	t.Helper()
	family := netlink.FAMILY_V4
	if ip.To4() == nil {
		family = netlink.FAMILY_V6
	}
	neighs, err := testutil.Handle(t, w.peer).NeighList(testutil.Link(t, w.peer, "vb").Attrs().Index, family)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range neighs {
		if n.IP.Equal(ip) {
			return n.HardwareAddr, n.State
		}
	}
	return nil, 0
}

func TestAnnounceUpdatesNeighbour(t *testing.T) {
	stale := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	tests := []struct {
		name     string
		vip      string
		peerAddr string
		state    int
		send     func(s *Sender) error
		updated  bool
	}{
		{"IPv4 request, stale entry", "192.0.2.10", "192.0.2.1/24", unix.NUD_STALE, (*Sender).Request, true},
		{"IPv4 reply, stale entry", "192.0.2.10", "192.0.2.1/24", unix.NUD_STALE, (*Sender).Reply, true},
		{"IPv4 reply, reachable entry", "192.0.2.10", "192.0.2.1/24", unix.NUD_REACHABLE, (*Sender).Reply, true},
		{"IPv4 Announce", "192.0.2.10", "192.0.2.1/24", unix.NUD_REACHABLE, func(s *Sender) error {
			return Announce(context.Background(), s, 2, 20*time.Millisecond)
		}, true},
		{
			// Control: what the kernel ignores within locktime, so the
			// reply case above proves the target-MAC form matters.
			"IPv4 reply to broadcast target MAC (not gratuitous to Linux)", "192.0.2.10", "192.0.2.1/24", unix.NUD_STALE,
			func(s *Sender) error {
				f, err := arpFrame(arp.OperationReply, s.ifi.HardwareAddr, s.ip, ethernet.Broadcast, s.ip, ethernet.Broadcast)
				return s.send("reply", f, err)
			}, false,
		},
		{"IPv6 advertisement, stale entry", "2001:db8::10", "2001:db8::1/64", unix.NUD_STALE, (*Sender).Advertise, true},
		{"IPv6 advertisement, reachable entry", "2001:db8::10", "2001:db8::1/64", unix.NUD_REACHABLE, (*Sender).Advertise, true},
		{"IPv6 Announce", "2001:db8::10", "2001:db8::1/64", unix.NUD_STALE, func(s *Sender) error {
			return Announce(context.Background(), s, 2, 20*time.Millisecond)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			testutil.AddAddr(t, w.peer, "vb", tt.peerAddr)
			vip := net.ParseIP(tt.vip)
			n := &netlink.Neigh{
				LinkIndex:    testutil.Link(t, w.peer, "vb").Attrs().Index,
				State:        tt.state,
				IP:           vip,
				HardwareAddr: stale,
			}
			if vip.To4() != nil {
				n.Family = netlink.FAMILY_V4
			} else {
				n.Family = netlink.FAMILY_V6
			}
			if err := testutil.Handle(t, w.peer).NeighSet(n); err != nil {
				t.Fatalf("set stale neighbour: %v", err)
			}
			if mac, _ := neighMAC(t, w, vip); !bytes.Equal(mac, stale) {
				t.Fatalf("neighbour entry %v, want %v", mac, stale)
			}
			s := w.open(t, tt.vip)
			if err := tt.send(s); err != nil {
				t.Fatalf("send: %v", err)
			}
			deadline := time.Now().Add(500 * time.Millisecond)
			for {
				mac, state := neighMAC(t, w, vip)
				if bytes.Equal(mac, w.ifi.HardwareAddr) {
					if !tt.updated {
						t.Fatalf("entry updated to %v (state %#x), want it left alone", mac, state)
					}
					return
				}
				if time.Now().After(deadline) {
					if tt.updated {
						t.Fatalf("entry still %v (state %#x), want %v", mac, state, w.ifi.HardwareAddr)
					}
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	w := newWorld(t)
	s4, s6 := w.open(t, "192.0.2.10"), w.open(t, "2001:db8::10")
	testutil.SetDown(t, w.ns, "va")
	for name, send := range map[string]func() error{
		"request": s4.Request, "reply": s4.Reply, "advertise": s6.Advertise,
	} {
		if err := send(); !errors.Is(err, unix.ENETDOWN) {
			t.Errorf("%s on an admin-down link = %v, want ENETDOWN", name, err)
		}
	}
	if err := Announce(context.Background(), s4, 2, 0); !errors.Is(err, unix.ENETDOWN) {
		t.Errorf("Announce on an admin-down link = %v, want ENETDOWN", err)
	}
	if err := s4.Advertise(); err == nil {
		t.Errorf("Advertise on an IPv4 sender succeeded")
	}
	if err := s6.Request(); err == nil {
		t.Errorf("Request on an IPv6 sender succeeded")
	}
	lo := iface(t, w.ns, "lo")
	err := testutil.Do(t, w.ns, func() error {
		_, err := Open(lo, netip.MustParseAddr("127.0.0.2"))
		return err
	})
	if !errors.Is(err, errNotEthernet) {
		t.Errorf("Open on lo = %v, want errNotEthernet", err)
	}
}

// inNS runs f inside w.ns, where Probe and Resolve must open their sockets.
func (w *world) inNS(t *testing.T, f func()) {
	t.Helper()
	if err := testutil.Do(t, w.ns, func() error { f(); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name      string
		peerAddr  string // on vb
		ourAddr   string // on va
		ip        string
		wantFound bool
	}{
		{"IPv4 owner", "192.0.2.20/24", "", "192.0.2.20", true},
		{"IPv4 none", "192.0.2.20/24", "", "192.0.2.21", false},
		{"IPv4 only ours", "", "192.0.2.30/24", "192.0.2.30", false},
		{"IPv6 owner", "2001:db8::20/64", "", "2001:db8::20", true},
		{"IPv6 none", "2001:db8::20/64", "", "2001:db8::21", false},
		{"IPv6 only ours", "", "2001:db8::30/64", "2001:db8::30", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.peerAddr != "" {
				testutil.AddAddr(t, w.peer, "vb", tt.peerAddr)
			}
			if tt.ourAddr != "" {
				testutil.AddAddr(t, w.ns, "va", tt.ourAddr)
			}
			const timeout = 300 * time.Millisecond
			var (
				owner net.HardwareAddr
				found bool
				err   error
			)
			start := time.Now()
			w.inNS(t, func() {
				owner, found, err = Probe(context.Background(), w.ifi, netip.MustParseAddr(tt.ip), timeout)
			})
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if found != tt.wantFound {
				t.Fatalf("Probe found=%v owner=%v, want found=%v", found, owner, tt.wantFound)
			}
			if found && !bytes.Equal(owner, w.peerMAC) {
				t.Errorf("owner %v, want %v", owner, w.peerMAC)
			}
			if found && elapsed > timeout/2 {
				t.Errorf("answer took %v", elapsed)
			}
			if !found && (elapsed < timeout || elapsed > timeout+500*time.Millisecond) {
				t.Errorf("Probe gave up after %v, want %v", elapsed, timeout)
			}
		})
	}
}

func TestProbeContext(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var err error
	start := time.Now()
	w.inNS(t, func() {
		_, _, err = Probe(ctx, w.ifi, netip.MustParseAddr("192.0.2.20"), 10*time.Second)
	})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("Probe = %v after %v, want DeadlineExceeded after 50ms", err, time.Since(start))
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name      string
		peerAddr  string
		ourAddr   string
		src, dst  string
		removed   bool // peer address removed before resolving
		wantReply bool
	}{
		{"IPv4", "192.0.2.1/24", "192.0.2.2/24", "192.0.2.2", "192.0.2.1", false, true},
		{"IPv4 from 0.0.0.0", "192.0.2.1/24", "", "", "192.0.2.1", false, true},
		{"IPv4 peer address removed", "192.0.2.1/24", "192.0.2.2/24", "192.0.2.2", "192.0.2.1", true, false},
		{"IPv6", "2001:db8::1/64", "2001:db8::2/64", "2001:db8::2", "2001:db8::1", false, true},
		{"IPv6 from ::", "2001:db8::1/64", "", "", "2001:db8::1", false, true},
		{"IPv6 peer address removed", "2001:db8::1/64", "2001:db8::2/64", "2001:db8::2", "2001:db8::1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			testutil.AddAddr(t, w.peer, "vb", tt.peerAddr)
			if tt.ourAddr != "" {
				testutil.AddAddr(t, w.ns, "va", tt.ourAddr)
			}
			if tt.removed {
				testutil.DelAddr(t, w.peer, "vb", tt.peerAddr)
			}
			var src netip.Addr
			if tt.src != "" {
				src = netip.MustParseAddr(tt.src)
			}
			const timeout = 300 * time.Millisecond
			var (
				mac net.HardwareAddr
				err error
			)
			start := time.Now()
			w.inNS(t, func() {
				mac, err = Resolve(context.Background(), w.ifi, src, netip.MustParseAddr(tt.dst), timeout)
			})
			elapsed := time.Since(start)
			if !tt.wantReply {
				if !errors.Is(err, ErrNoReply) {
					t.Fatalf("Resolve = %v, %v; want ErrNoReply", mac, err)
				}
				if elapsed < timeout || elapsed > timeout+500*time.Millisecond {
					t.Errorf("gave up after %v, want %v", elapsed, timeout)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if !bytes.Equal(mac, w.peerMAC) {
				t.Errorf("Resolve = %v, want %v", mac, w.peerMAC)
			}
		})
	}
}
