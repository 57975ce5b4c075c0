package vip

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hanet/hanet/pkg/testutil"
)

// spacingTolerance is how far the gap between two captured frames may be
// from the planned one: the capture timestamps frames in user space.
const spacingTolerance = 25 * time.Millisecond

var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

// TestGratuitousARP captures the start burst on the peer: arp_count rounds
// of a request (target MAC zero) and a reply (target MAC = sender MAC),
// Ethernet broadcast from lan0's MAC, arp_interval/2 apart; with arp_bg
// the first round (its reply right after its request) is sent before start
// returns and the rest after it, by
// the background child; without, all before. The peer's stale entry for
// the address (a wrong MAC) is replaced.
func TestGratuitousARP(t *testing.T) {
	tests := []struct {
		name     string
		count    int
		interval time.Duration
		bg       bool
	}{
		{"background", 4, 100 * time.Millisecond, true},
		{"foreground", 3, 100 * time.Millisecond, false},
		{"one round", 1, 100 * time.Millisecond, true},
		{"background slow", 2, 300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.setPeerNeigh(vip4, wrongMAC)
			c := testutil.StartCapture(t, w.peer, peerNIC, testutil.EtherTypeARP)
			p := []string{"ip=" + vip4, "nic=" + nic, "cidr_netmask=24",
				fmt.Sprintf("arp_count=%d", tt.count),
				fmt.Sprintf("arp_interval=%d", tt.interval.Milliseconds()),
				fmt.Sprintf("arp_bg=%v", tt.bg)}
			r := w.must(0, "start", p...)
			want := 2 * tt.count
			burst := time.Duration(2*tt.count-1) * tt.interval / 2
			frames, _ := c.Wait(burst+2*time.Second, func(f []testutil.Frame) bool { return len(garps(f, vip4)) >= want })
			time.Sleep(tt.interval) // nothing more may come
			frames = c.Frames()
			got := garps(frames, vip4)
			if len(got) != want {
				t.Fatalf("captured %d gratuitous ARP frames, want %d (2 × arp_count)", len(got), want)
			}
			vip := netip.MustParseAddr(vip4)
			for i, f := range got {
				wantOp, wantTHA := 1, zeroMAC // request
				if i%2 == 1 {
					wantOp, wantTHA = 2, w.mac // reply
				}
				switch {
				case f.op != wantOp:
					t.Errorf("frame %d: ARP op %d, want %d", i, f.op, wantOp)
				case !bytes.Equal(f.ethDst, broadcast):
					t.Errorf("frame %d: Ethernet destination %s, want broadcast", i, f.ethDst)
				case !bytes.Equal(f.ethSrc, w.mac) || !bytes.Equal(f.sha, w.mac):
					t.Errorf("frame %d: from %s, sender MAC %s, want %s", i, f.ethSrc, f.sha, w.mac)
				case f.spa != vip || f.tpa != vip:
					t.Errorf("frame %d: sender IP %s, target IP %s, want %s both", i, f.spa, f.tpa, vip)
				case !bytes.Equal(f.tha, wantTHA):
					t.Errorf("frame %d: target MAC %s, want %s", i, f.tha, wantTHA)
				}
				if i == 0 {
					continue
				}
				// With arp_bg the first round's reply follows its request at
				// once, and the second round starts one interval after the
				// first; every other gap is interval/2.
				gap, wantGap := f.at.Sub(got[i-1].at), tt.interval/2
				if tt.bg && i == 1 {
					wantGap = 0
				} else if tt.bg && i == 2 {
					wantGap = tt.interval
				}
				if d := gap - wantGap; d < -spacingTolerance || d > spacingTolerance {
					t.Errorf("frames %d-%d: %v apart, want %v ± %v", i-1, i, gap, wantGap, spacingTolerance)
				}
			}
			// The first round (request and reply) goes out before start
			// returns; with arp_bg the rest after it.
			fg := want
			if tt.bg {
				fg = 2
			}
			for i, f := range got {
				if before := f.at.Before(r.end); before != (i < fg) {
					t.Errorf("frame %d at +%v, start returned at +%v: want %d frames before start returned",
						i, f.at.Sub(r.start), r.wall(), fg)
				}
			}
			if mac := w.peerNeigh(vip4); !bytes.Equal(mac, w.mac) {
				t.Errorf("peer's neighbour entry for %s: %s, want %s (was %s)", vip4, mac, w.mac, wrongMAC)
			}
			if tt.bg && tt.count > 1 {
				// The child is gone and has cleaned its pid file.
				if !waitFor(time.Second, func() bool { return !exists(filepath.Join(w.state, "*.garp.pid")) }) {
					t.Errorf("background announcer left its pid file: %v", w.stateFiles())
				}
			}
			w.must(0, "stop", p...)
		})
	}
}

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func exists(glob string) bool {
	m, _ := filepath.Glob(glob)
	return len(m) > 0
}

// TestNeighborAdvertisement captures the IPv6 start burst: arp_count
// unsolicited NAs to ff02::1, hop limit 255, Override set, Solicited
// clear, target link-layer address = lan0's MAC, arp_interval apart, sent
// after duplicate address detection; the peer's stale entry is replaced.
func TestNeighborAdvertisement(t *testing.T) {
	w := newWorld(t)
	w.fastDAD()
	w.setPeerNeigh(vip6, wrongMAC)
	c := testutil.StartCapture(t, w.peer, peerNIC, testutil.EtherTypeIPv6)
	p := []string{"ip=" + vip6, "nic=" + nic, "cidr_netmask=64", "arp_count=3", "arp_interval=100"}
	r := w.must(0, "start", p...)
	frames, _ := c.Wait(3*time.Second, func(f []testutil.Frame) bool { return len(nas(f, vip6)) >= 3 })
	time.Sleep(150 * time.Millisecond)
	frames = c.Frames()
	got := nas(frames, vip6)
	if len(got) != 3 {
		t.Fatalf("captured %d neighbour advertisements, want 3 (arp_count)", len(got))
	}
	allNodes := netip.MustParseAddr("ff02::1")
	for i, na := range got {
		switch {
		case na.dst != allNodes || !bytes.Equal(na.ethDst, net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}):
			t.Errorf("NA %d: to %s (%s), want ff02::1", i, na.dst, na.ethDst)
		case na.hopLimit != 255:
			t.Errorf("NA %d: hop limit %d, want 255", i, na.hopLimit)
		case na.flags&0x20 == 0 || na.flags&0x40 != 0:
			t.Errorf("NA %d: flags %#x, want Override and not Solicited", i, na.flags)
		case !bytes.Equal(na.tll, w.mac):
			t.Errorf("NA %d: target link-layer address %s, want %s", i, na.tll, w.mac)
		case na.src != netip.MustParseAddr(vip6):
			t.Errorf("NA %d: source %s, want the VIP (past DAD)", i, na.src)
		}
		if i > 0 {
			gap := na.at.Sub(got[i-1].at)
			if d := gap - 100*time.Millisecond; d < -spacingTolerance || d > spacingTolerance {
				t.Errorf("NAs %d-%d: %v apart, want 100ms ± %v", i-1, i, gap, spacingTolerance)
			}
		}
	}
	if !got[0].at.Before(r.end) || got[1].at.Before(r.end) {
		t.Errorf("first NA at +%v, second at +%v, start returned at +%v: want only the first before",
			got[0].at.Sub(r.start), got[1].at.Sub(r.start), r.wall())
	}
	// DAD's solicitation precedes the first advertisement.
	var sawDAD bool
	for _, f := range frames {
		if len(f.Data) > 14+40 && f.Data[14+6] == 58 && f.Data[14+40] == 135 && f.Time.Before(got[0].at) {
			sawDAD = true
		}
	}
	if !sawDAD {
		t.Errorf("no DAD neighbour solicitation before the first advertisement")
	}
	if mac := w.peerNeigh(vip6); !bytes.Equal(mac, w.mac) {
		t.Errorf("peer's neighbour entry for %s: %s, want %s (was %s)", vip6, mac, w.mac, wrongMAC)
	}
	w.must(0, "stop", p...)
}

// TestStopKillsBackground: a stop during a long background burst kills the
// sender before it returns; nothing is sent after the stop.
func TestStopKillsBackground(t *testing.T) {
	w := newWorld(t)
	c := testutil.StartCapture(t, w.peer, peerNIC, testutil.EtherTypeARP)
	p := []string{"ip=" + vip4, "arp_count=50", "arp_interval=100"}
	w.must(0, "start", p...)
	pidFile, _ := filepath.Glob(filepath.Join(w.state, "*.garp.pid"))
	if len(pidFile) != 1 {
		t.Fatalf("no pid file of the background announcer: %v", w.stateFiles())
	}
	data, _ := os.ReadFile(pidFile[0])
	var pid int
	fmt.Sscan(string(data), &pid)
	if processGone(pid) {
		t.Fatalf("background announcer %d is not running", pid)
	}
	if _, ok := c.Wait(time.Second, func(f []testutil.Frame) bool { return len(garps(f, vip4)) >= 4 }); !ok {
		t.Fatalf("the background announcer sends nothing")
	}
	r := w.must(0, "stop", p...)
	if !processGone(pid) {
		t.Errorf("background announcer %d still runs after stop", pid)
	}
	time.Sleep(250 * time.Millisecond)
	for _, f := range garps(c.Frames(), vip4) {
		if f.at.After(r.end) {
			t.Errorf("ARP frame at +%v after stop returned", f.at.Sub(r.end))
		}
	}
	if got := w.stateFiles(); len(got) != 0 {
		t.Errorf("state files after stop: %v", got)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("pid %d", pid)) {
		t.Errorf("stop does not log killing the announcer:\n%s", r.stderr)
	}
}

// TestBackgroundStopsWhenAddressGone: the background announcer notices
// that its address left the interface and stops early.
func TestBackgroundStopsWhenAddressGone(t *testing.T) {
	w := newWorld(t)
	c := testutil.StartCapture(t, w.peer, peerNIC, testutil.EtherTypeARP)
	w.must(0, "start", "ip="+vip4, "arp_count=50", "arp_interval=100")
	testutil.DelAddr(t, w.ns, nic, vip4+"/24")
	removed := time.Now()
	if !waitFor(2*time.Second, func() bool { return !exists(filepath.Join(w.state, "*.garp.pid")) }) {
		t.Fatalf("the background announcer runs on after its address was removed")
	}
	late := 0
	for _, f := range garps(c.Frames(), vip4) {
		if f.at.After(removed.Add(250 * time.Millisecond)) {
			late++
		}
	}
	if late > 0 {
		t.Errorf("%d frames more than a round after the address was removed", late)
	}
}

// TestWaitsForCarrier: start announces only once the link has carrier,
// waiting for it within the operation timeout; without carrier in time it
// fails (1) and leaves nothing behind.
func TestWaitsForCarrier(t *testing.T) {
	t.Run("carrier comes", func(t *testing.T) {
		w := newWorld(t)
		// Capture on a macvlan over peer0: a socket bound to peer0 itself
		// would end (ENETDOWN) when peer0 goes down.
		h := testutil.Handle(t, w.peer)
		mv := &netlink.Macvlan{LinkAttrs: netlink.NewLinkAttrs(), Mode: netlink.MACVLAN_MODE_BRIDGE}
		mv.Name = "cap0"
		mv.ParentIndex = testutil.Link(t, w.peer, peerNIC).Attrs().Index
		if err := h.LinkAdd(mv); err != nil {
			t.Fatalf("add macvlan: %v", err)
		}
		testutil.SetUp(t, w.peer, "cap0")
		testutil.WaitOperUp(t, w.peer, "cap0", 5*time.Second)
		c := testutil.StartCapture(t, w.peer, "cap0", testutil.EtherTypeARP)
		testutil.SetDown(t, w.peer, peerNIC)
		testutil.WaitOperState(t, w.ns, nic, netlink.OperDown, 2*time.Second)
		cmd, stdout, stderr := w.command("start", "ip="+vip4, "arp_count=2", "arp_interval=100")
		r := run{start: time.Now()}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		testutil.SetUp(t, w.peer, peerNIC)
		up := time.Now()
		err := cmd.Wait()
		r.end = time.Now()
		r = w.finish(r, cmd, err, stdout, stderr)
		if r.code != 0 {
			t.Fatalf("start: %v", r)
		}
		if r.end.Before(up) {
			t.Errorf("start returned before the link came up")
		}
		frames, _ := c.Wait(2*time.Second, func(f []testutil.Frame) bool { return len(garps(f, vip4)) >= 4 })
		if got := garps(frames, vip4); len(got) != 4 {
			t.Errorf("captured %d frames after the link came up, want 4", len(got))
		} else {
			t.Logf("link up to first frame: %v", got[0].at.Sub(up))
		}
		w.must(0, "stop", "ip="+vip4)
	})
	t.Run("admin down", func(t *testing.T) {
		// start sets the interface up, waits for it and announces.
		w := newWorld(t)
		c := testutil.StartCapture(t, w.peer, peerNIC, testutil.EtherTypeARP)
		testutil.SetDown(t, w.ns, nic)
		w.must(0, "start", "ip="+vip4, "nic="+nic, "cidr_netmask=24", "arp_count=2", "arp_interval=100")
		frames, _ := c.Wait(2*time.Second, func(f []testutil.Frame) bool { return len(garps(f, vip4)) >= 4 })
		if got := garps(frames, vip4); len(got) != 4 {
			t.Errorf("captured %d frames, want 4", len(got))
		}
		w.must(0, "monitor", "ip="+vip4, recurring)
		w.must(0, "stop", "ip="+vip4)
	})
	t.Run("no carrier", func(t *testing.T) {
		w := newWorld(t)
		testutil.SetDown(t, w.peer, peerNIC)
		testutil.WaitOperState(t, w.ns, nic, netlink.OperDown, 2*time.Second)
		before := w.stableDump()
		r := w.must(1, "start", "ip="+vip4, "OCF_RESKEY_CRM_meta_timeout=1000")
		if !strings.Contains(r.reason(), "no carrier") {
			t.Errorf("exit reason %q, want one about the carrier", r.reason())
		}
		if r.wall() > 1500*time.Millisecond {
			t.Errorf("start took %v with a 1 s timeout", r.wall())
		}
		if after := w.dump(); after != before {
			t.Errorf("failed start changed the host:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if got := w.stateFiles(); len(got) != 0 {
			t.Errorf("state files after a failed start: %v", got)
		}
	})
}

// TestRefresh: arp_count_refresh re-announces on every recurring monitor,
// not in probes.
func TestRefresh(t *testing.T) {
	w := newWorld(t)
	p := []string{"ip=" + vip4, "arp_count=0", "arp_count_refresh=2", "arp_interval=20"}
	w.must(0, "start", p...)
	c := testutil.StartCapture(t, w.peer, peerNIC, testutil.EtherTypeARP)
	w.must(0, "monitor", append(p, probe)...)
	time.Sleep(50 * time.Millisecond)
	if n := len(garps(c.Frames(), vip4)); n != 0 {
		t.Errorf("probe sent %d frames, want none", n)
	}
	w.must(0, "monitor", append(p, recurring)...)
	frames, _ := c.Wait(time.Second, func(f []testutil.Frame) bool { return len(garps(f, vip4)) >= 4 })
	if n := len(garps(frames, vip4)); n != 4 {
		t.Errorf("recurring monitor sent %d frames, want 4 (2 × arp_count_refresh)", n)
	}
	w.must(0, "stop", p...)
}

// TestBackgroundErrorsRelayed: send errors of the background announcer are
// not lost: the next recurring monitor logs them.
func TestBackgroundErrorsRelayed(t *testing.T) {
	w := newWorld(t)
	p := []string{"ip=" + vip4, "nic=" + nic, "cidr_netmask=24", "arp_count=5", "arp_interval=100"}
	w.must(0, "start", p...)
	testutil.SetDown(t, w.ns, nic) // the address stays; sends fail: network is down
	if !waitFor(2*time.Second, func() bool { return !exists(filepath.Join(w.state, "*.garp.pid")) }) {
		t.Fatalf("the background announcer did not finish")
	}
	r := w.must(7, "monitor", append(p, recurring)...)
	if !strings.Contains(r.stderr, "WARNING: background announcements of "+vip4) || !strings.Contains(r.stderr, "network is down") {
		t.Errorf("monitor does not relay the announcer's errors:\n%s", r.stderr)
	}
	t.Logf("monitor: %s", r.stderr)
	r = w.must(7, "monitor", append(p, recurring)...)
	if strings.Contains(r.stderr, "background announcements") {
		t.Errorf("errors relayed twice:\n%s", r.stderr)
	}
	w.must(0, "stop", p...)
	if got := w.stateFiles(); len(got) != 0 {
		t.Errorf("state files after stop: %v", got)
	}
}
