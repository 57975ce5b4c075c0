package testutil

import (
	"bytes"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsInode returns the inode identifying the namespace behind h.
func nsInode(t *testing.T, h netns.NsHandle) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(h), &st); err != nil {
		t.Fatalf("stat namespace: %v", err)
	}
	return st.Ino
}

// currentNS returns the namespace inode of whichever thread runs the caller
// right now; all threads of an unswitched process share one.
func currentNS(t *testing.T) uint64 {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatalf("stat own namespace: %v", err)
	}
	return st.Ino
}

func TestNewNS(t *testing.T) {
	SkipUnlessRoot(t)
	before := currentNS(t)
	ns := NewNS(t)
	if got := nsInode(t, ns); got == before {
		t.Fatalf("NewNS returned the caller's namespace (inode %d)", got)
	}
	if after := currentNS(t); after != before {
		t.Fatalf("caller moved from namespace %d to %d", before, after)
	}
	links, err := Handle(t, ns).LinkList()
	if err != nil {
		t.Fatalf("list links: %v", err)
	}
	if len(links) != 1 || links[0].Attrs().Name != "lo" {
		t.Fatalf("new namespace links = %v, want only lo", links)
	}
	if links[0].Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("lo is down in new namespace")
	}
}

// TestCreateNS checks the testing.TB-free variant used by the benchmarks.
func TestCreateNS(t *testing.T) {
	SkipUnlessRoot(t)
	before := currentNS(t)
	ns, err := CreateNS()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if got, after := nsInode(t, ns), currentNS(t); got == before || after != before {
		t.Fatalf("CreateNS: new namespace %d, caller in %d (was %d)", got, after, before)
	}
	lo, err := Handle(t, ns).LinkByName("lo")
	if err != nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Fatalf("lo in created namespace: %v, err %v", lo, err)
	}
}

func TestInNS(t *testing.T) {
	SkipUnlessRoot(t)
	ns := NewNS(t)
	want := nsInode(t, ns)
	tests := []struct {
		name    string
		fn      func() error
		wantErr bool
	}{
		{"ok", func() error { return nil }, false},
		{"error", func() error { return fmt.Errorf("boom") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inside uint64
			err := InNS(ns, func() error {
				var st unix.Stat_t
				if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
					return err
				}
				inside = st.Ino
				return tt.fn()
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("InNS error = %v, want error %v", err, tt.wantErr)
			}
			if inside != want {
				t.Errorf("fn ran in namespace %d, want %d", inside, want)
			}
		})
	}
}

func TestVethAndAddr(t *testing.T) {
	SkipUnlessRoot(t)
	nsA, nsB := NewNS(t), NewNS(t)
	a, b := Veth(t, nsA, "va", nsB, "vb")
	for _, l := range []netlink.Link{a, b} {
		if l.Attrs().OperState != netlink.OperUp {
			t.Errorf("%s oper state %s, want up", l.Attrs().Name, l.Attrs().OperState)
		}
		if len(l.Attrs().HardwareAddr) != 6 {
			t.Errorf("%s MAC %v", l.Attrs().Name, l.Attrs().HardwareAddr)
		}
	}
	AddAddr(t, nsA, "va", "192.0.2.1/24")
	AddAddr(t, nsA, "va", "2001:db8::1/64")
	addrs, err := Handle(t, nsA).AddrList(a, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ad := range addrs {
		if ad.IP.IsGlobalUnicast() {
			got = append(got, ad.IPNet.String())
			if ad.IP.To4() == nil && ad.Flags&unix.IFA_F_NODAD == 0 {
				t.Errorf("%s lacks nodad", ad.IPNet)
			}
		}
	}
	if strings.Join(got, " ") != "192.0.2.1/24 2001:db8::1/64" {
		t.Errorf("addresses = %v", got)
	}
	DelAddr(t, nsA, "va", "192.0.2.1/24")

	SetDown(t, nsB, "vb")
	if st := Link(t, nsA, "va").Attrs().OperState; st == netlink.OperUp {
		t.Errorf("va still up with peer down")
	}
	SetUp(t, nsB, "vb")
	WaitOperUp(t, nsA, "va", time.Second)
}

func TestExec(t *testing.T) {
	SkipUnlessRoot(t)
	ns := NewNS(t)
	out, err := Exec(ns, "readlink", "/proc/self/ns/net").Output()
	if err != nil {
		t.Fatalf("readlink: %v", err)
	}
	want := fmt.Sprintf("net:[%d]\n", nsInode(t, ns))
	if string(out) != want {
		t.Errorf("child namespace %q, want %q", out, want)
	}
	// The namespace path works for other processes too.
	out, err = Exec(ns, "nsenter", "--net="+Path(ns), "readlink", "/proc/self/ns/net").CombinedOutput()
	if err != nil {
		t.Fatalf("nsenter: %v: %s", err, out)
	}
	if string(out) != want {
		t.Errorf("nsenter namespace %q, want %q", out, want)
	}
}

func TestCapture(t *testing.T) {
	SkipUnlessRoot(t)
	nsA, nsB := NewNS(t), NewNS(t)
	a, _ := Veth(t, nsA, "va", nsB, "vb")
	c := StartCapture(t, nsB, "vb", EtherTypeARP)

	frame := make([]byte, 60)
	copy(frame[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(frame[6:12], a.Attrs().HardwareAddr)
	frame[12], frame[13] = 0x08, 0x06
	copy(frame[14:], "hanet test frame")
	sendStart := time.Now()
	err := Do(t, nsA, func() error {
		ifi, err := net.InterfaceByName("va")
		if err != nil {
			return err
		}
		conn, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ARP, nil)
		if err != nil {
			return err
		}
		defer conn.Close()
		for range 3 {
			if _, err := conn.WriteTo(frame, &packet.Addr{HardwareAddr: net.HardwareAddr(frame[0:6])}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("send frames: %v", err)
	}
	sendEnd := time.Now()
	frames, ok := c.Wait(2*time.Second, func(f []Frame) bool { return len(f) >= 3 })
	if !ok {
		t.Fatalf("captured %d frames, want 3", len(frames))
	}
	for i, f := range frames {
		if !bytes.Equal(f.Data, frame) {
			t.Errorf("frame %d = %x, want %x", i, f.Data, frame)
		}
		if f.Time.Before(sendStart) || f.Time.After(sendEnd) {
			t.Errorf("frame %d stamped %v, outside the send window", i, f.Time.Sub(sendStart))
		}
		if i > 0 && f.Time.Before(frames[i-1].Time) {
			t.Errorf("frame %d timestamp goes backwards", i)
		}
	}
	all, err := c.Stop()
	if err != nil || len(all) != 3 {
		t.Errorf("Stop = %d frames, %v; want 3, nil", len(all), err)
	}
}

func TestRxTime(t *testing.T) {
	want := time.Unix(1700000000, 123456789)
	ts := unix.NsecToTimespec(want.UnixNano())
	data := (*[unsafe.Sizeof(ts)]byte)(unsafe.Pointer(&ts))[:]
	oob := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SO_TIMESTAMPNS
	h.SetLen(unix.CmsgLen(len(data)))
	copy(oob[unix.CmsgLen(0):], data)
	if got := rxTime(oob); !got.Equal(want) {
		t.Errorf("rxTime = %v, want %v", got, want)
	}
	if got := rxTime(nil); time.Since(got) > time.Second {
		t.Errorf("rxTime without timestamp = %v, want now", got)
	}
}
