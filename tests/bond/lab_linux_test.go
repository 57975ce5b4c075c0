//go:build linux && vmtest

package bondtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	bondlink "github.com/hanet/hanet/pkg/bond"
	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/testutil"
)

func skipUnlessBonding(t *testing.T) {
	t.Helper()
	if !inGuest() {
		t.Skip("needs the bonding driver: run via tests/vm/run (tests/bond/run)")
	}
	testutil.SkipUnlessRoot(t)
}

// agent runs the agent (this binary with HANET_AS_AGENT=1) for one
// resource: its parameters, instance and state directory.
type agent struct {
	t        *testing.T
	params   map[string]string
	instance string
	dir      string
}

func newAgent(t *testing.T, params ...string) *agent {
	a := &agent{t: t, params: map[string]string{}, instance: "bond-" + strings.ReplaceAll(t.Name(), "/", "-"), dir: t.TempDir()}
	a.set(params...)
	return a
}

// set changes parameters ("k=v"; "k=" removes k).
func (a *agent) set(params ...string) {
	for _, kv := range params {
		k, v, _ := strings.Cut(kv, "=")
		if v == "" {
			delete(a.params, k)
		} else {
			a.params[k] = v
		}
	}
}

// run runs one action with extra environment entries and returns the exit
// code and stderr (logs and exit reason).
func (a *agent) run(action string, env ...string) (ocf.ExitCode, string) {
	a.t.Helper()
	self, err := os.Executable()
	if err != nil {
		a.t.Fatal(err)
	}
	cmd := exec.Command(self, action)
	cmd.Env = append(os.Environ(), "HANET_AS_AGENT=1", "HA_RSCTMP="+a.dir,
		"OCF_RESOURCE_INSTANCE="+a.instance, "OCF_ROOT=/usr/lib/ocf", "OCF_RESKEY_CRM_meta_timeout=20000")
	for k, v := range a.params {
		cmd.Env = append(cmd.Env, "OCF_RESKEY_"+k+"="+v)
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return ocf.ExitCode(exit.ExitCode()), stderr.String()
	}
	a.t.Fatalf("%s: %v\n%s", action, err, stderr.String())
	return 0, ""
}

// expect runs action and fails the test unless it exits want.
func (a *agent) expect(action string, want ocf.ExitCode, env ...string) string {
	a.t.Helper()
	start := time.Now()
	code, stderr := a.run(action, env...)
	if code != want {
		a.t.Fatalf("%s %s = %d, want %d (after %s); stderr:\n%s", action, strings.Join(env, " "), code, want,
			time.Since(start).Round(time.Millisecond), stderr)
	}
	if took := time.Since(start); took > 2*time.Second {
		a.t.Logf("%s took %s:\n%s", action, took.Round(time.Millisecond), stderr)
	}
	return stderr
}

func (a *agent) monitor(want ocf.ExitCode, env ...string) string {
	a.t.Helper()
	return a.expect("monitor", want, append([]string{recurring}, env...)...)
}

// waitMonitor runs the recurring monitor until it exits want, for up to
// timeout, and returns how long that took and the last stderr.
func (a *agent) waitMonitor(want ocf.ExitCode, timeout time.Duration, env ...string) (time.Duration, string) {
	a.t.Helper()
	start := time.Now()
	for {
		code, stderr := a.run("monitor", append([]string{recurring}, env...)...)
		if code == want {
			return time.Since(start), stderr
		}
		if time.Since(start) > timeout {
			a.t.Fatalf("monitor still %d after %s, want %d; stderr:\n%s", code, timeout, want, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lab is a test's network: n veth pairs, <prefix>a<i> here (the bond's
// future ports) and p<i> in a peer namespace, where they join a bridge or
// a peer bond holding 10.99.<id>.2/24, with a UDP echo server on port 7.
type lab struct {
	t      *testing.T
	id     int
	here   netns.NsHandle
	peer   netns.NsHandle
	h, ph  *netlink.Handle
	bond   string
	slaves []string
	peers  []string
	peerIf string
}

var labs int

// newLab builds the lab; peerMode "" puts the peer ports on a bridge,
// a mode name on a peer bond of that mode (miimon 100, lacp_rate fast).
func newLab(t *testing.T, n int, peerMode string) *lab {
	t.Helper()
	skipUnlessBonding(t)
	labs++
	l := &lab{t: t, id: labs, bond: fmt.Sprintf("h%db", labs)}
	here, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { here.Close() })
	l.here = here
	l.h = testutil.Handle(t, here)
	l.peer = testutil.NewNS(t)
	l.ph = testutil.Handle(t, l.peer)
	t.Cleanup(l.cleanup)

	var master netlink.Link
	if peerMode == "" {
		br := &netlink.Bridge{LinkAttrs: netlink.NewLinkAttrs()}
		br.Name = "br0"
		must(t, l.ph.LinkAdd(br))
		master = br
	} else {
		mode, err := bondlink.ParseMode(peerMode)
		must(t, err)
		pb := netlink.NewLinkBond(netlink.NewLinkAttrs())
		pb.Name = "pb0"
		pb.Mode = netlink.BondMode(mode)
		pb.Miimon = 100
		if mode == bondlink.LACP {
			pb.LacpRate = netlink.BOND_LACP_RATE_FAST
		}
		must(t, l.ph.LinkAdd(pb))
		master = pb
	}
	l.peerIf = master.Attrs().Name
	for i := range n {
		a, p := fmt.Sprintf("h%da%d", l.id, i), fmt.Sprintf("p%d", i)
		testutil.Veth(t, here, a, l.peer, p)
		pl, err := l.ph.LinkByName(p)
		must(t, err)
		must(t, l.ph.LinkSetDown(pl))
		must(t, l.ph.LinkSetMaster(pl, master))
		must(t, l.ph.LinkSetUp(pl))
		l.slaves = append(l.slaves, a)
		l.peers = append(l.peers, p)
	}
	must(t, l.ph.LinkSetUp(master))
	testutil.AddAddr(t, l.peer, l.peerIf, l.peerIP()+"/24")
	l.echo()
	return l
}

func (l *lab) cleanup() {
	if b, err := l.h.LinkByName(l.bond); err == nil {
		_ = l.h.LinkDel(b)
	}
	for _, s := range l.slaves {
		if v, err := l.h.LinkByName(s); err == nil {
			_ = l.h.LinkDel(v)
		}
	}
}

func (l *lab) ourIP() string  { return fmt.Sprintf("10.99.%d.1", l.id) }
func (l *lab) peerIP() string { return fmt.Sprintf("10.99.%d.2", l.id) }

// slaveList is the slaves parameter.
func (l *lab) slaveList() string { return strings.Join(l.slaves, " ") }

// addr puts our address on the bond.
func (l *lab) addr() { testutil.AddAddr(l.t, l.here, l.bond, l.ourIP()+"/24") }

// peerLink sets peer port i down or up (the bond's port i loses or gets
// back its carrier).
func (l *lab) peerLink(i int, up bool) {
	l.t.Helper()
	if up {
		testutil.SetUp(l.t, l.peer, l.peers[i])
	} else {
		testutil.SetDown(l.t, l.peer, l.peers[i])
	}
}

// ping pings the peer until it answers, for up to 5 s.
func (l *lab) ping() {
	l.t.Helper()
	var out []byte
	var err error
	for range 5 {
		out, err = exec.Command("ping", "-c", "1", "-W", "1", l.peerIP()).CombinedOutput()
		if err == nil {
			return
		}
	}
	l.t.Fatalf("ping %s over %s: %v\n%s", l.peerIP(), l.bond, err, out)
}

// echo starts a UDP echo server on the peer's address, port 7.
func (l *lab) echo() {
	var conn *net.UDPConn
	err := testutil.Do(l.t, l.peer, func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(l.peerIP()), Port: 7})
		return err
	})
	must(l.t, err)
	l.t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = conn.WriteToUDP(buf[:n], from)
		}
	}()
}

// A stream is a testutil.UDPStream to the peer's echo server, stopped at
// the end of the test.
type stream struct{ *testutil.UDPStream }

func (l *lab) stream(interval time.Duration) *stream {
	us, err := testutil.StartUDPStream(&net.UDPAddr{IP: net.ParseIP(l.peerIP()), Port: 7}, interval)
	must(l.t, err)
	s := &stream{us}
	l.t.Cleanup(func() { s.stop() })
	return s
}

// stop ends the stream (letting the last echoes arrive) and returns how
// many datagrams were sent and lost and the longest time without an echo.
func (s *stream) stop() (sent, lost int, gap time.Duration) { return s.Stop(200 * time.Millisecond) }

// traffic checks that datagrams cross the bond: at least 18 of 20 come back.
func (l *lab) traffic() {
	l.t.Helper()
	l.ping()
	s := l.stream(10 * time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	sent, lost, _ := s.stop()
	if sent < 10 || lost > sent/10 {
		l.t.Fatalf("traffic over %s: %d of %d datagrams lost", l.bond, lost, sent)
	}
}

// state captures our ports, for comparing before start and after stop.
func (l *lab) state() []bondlink.LinkState {
	l.t.Helper()
	var out []bondlink.LinkState
	for _, s := range l.slaves {
		st, err := capture(l.h, s)
		must(l.t, err)
		out = append(out, st)
	}
	return out
}

// bondExists reports whether the bond is there.
func (l *lab) bondExists() bool {
	_, err := l.h.LinkByName(l.bond)
	return err == nil
}

// sysfs reads /sys/class/net/<bond>/bonding/<attr>.
func (l *lab) sysfs(attr string) string {
	l.t.Helper()
	p, err := bondlink.SysfsPath(bondlink.SysfsRoot, l.bond, "bonding", attr)
	must(l.t, err)
	b, err := os.ReadFile(p)
	must(l.t, err)
	return strings.TrimSpace(string(b))
}

// stateFiles lists the agent's state files (locks aside).
func (a *agent) stateFiles() []string {
	m, _ := filepath.Glob(filepath.Join(a.dir, "hanet-bond-*"))
	return slices.DeleteFunc(m, func(s string) bool { return strings.HasSuffix(s, ".lock") })
}
