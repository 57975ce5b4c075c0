//go:build linux

// Command bondbench measures ocf:hanet:bond against the real bonding driver:
// start to carrier, failover per mode and link monitor, LACP convergence.
// The host kernel has no bonding driver, so the measurements run in the
// qemu guest of tests/vm: on the host, bondbench boots its own (static)
// binary there through tests/vm/run and relays the guest's Markdown to
// stdout, its samples and verdicts to $BENCH_OUT/bondbench.json (when
// BENCH_OUT is set), and its progress to stderr.
//
//	CGO_ENABLED=0 go build -o /tmp/bondbench ./tests/bench/bondbench
//	/tmp/bondbench [-rounds 10]             # as root, from the repository
//
// In the guest the binary is also the agent: with HANET_AS_AGENT=1 it runs
// ocf.Main(bond.Agent{}) on its arguments, as tests/bond does, so every
// action is its own process, as under Pacemaker. With HANET_BENCH_RSS=<file>
// the agent writes its peak RSS (VmHWM) there before exiting.
//
// # The guest world
//
// One lab per configuration: two veth pairs between the guest's root
// namespace (the bond's ports) and a peer namespace, where the peer ends
// join a bridge holding 10.99.<lab>.2/24, or for 802.3ad a peer bond
// (802.3ad, lacp_rate fast, miimon 100). A UDP echo server runs on the peer
// address. Configurations:
//
//   - active-backup, miimon 100
//   - active-backup, ARP monitor: arp_interval 100, arp_ip_target the peer,
//     arp_validate all
//   - balance-tlb and balance-alb, miimon 100
//   - 802.3ad, lacp_rate fast, miimon 100, facing the peer bond
//
// # Method
//
// Rounds, each running every configuration in turn (interleaved): start
// (timed: wall of the action, which returns once every port is up and, in
// 802.3ad, aggregated with the partner; and exec → IFF_LOWER_UP on the bond,
// from a netlink subscription), the bond's address added, a recurring
// monitor (wall, CPU), then two failovers, then stop (wall). A failover:
// a UDP stream to the echo server every 5 ms; the port carrying traffic
// fails (its peer end set down; ARP monitor: all frames dropped at its peer
// end by clsact matchall filters set through netlink, the link staying
// up); measured: failure → the bonding driver
// names a new active_slave (802.3ad: failure → the port leaves the
// aggregator, mii_status down), and the longest time without an echo
// around it. The port then comes back (peer end up, or tc removed) and the
// time until every port is up again (802.3ad: aggregated again — the LACP
// re-convergence) is taken before the next failover.
//
// The guest is qemu TCG (no KVM) with one vCPU: processes start and run
// several times slower than on hardware, while the bonding driver's timers
// (miimon, arp_interval, LACPDUs) run in real time.
package main

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/agents/bond"
	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/testutil"
	"github.com/hanet/hanet/tests/bench/internal/benchkit"
)

const rssLimit = 15e6 // bytes

var (
	guest   = flag.Bool("guest", false, "run the measurements (inside the qemu guest)")
	rounds  = flag.Int("rounds", 10, "rounds; each has one start/stop and two failovers per configuration")
	budget  = flag.Duration("budget", 150*time.Second, "in the guest, start no round after this long (at least 3 rounds)")
	timeout = flag.Int("vm-timeout", 600, "seconds the guest may run")
)

func main() {
	if os.Getenv("HANET_AS_AGENT") == "1" {
		os.Exit(agentMain())
	}
	flag.Parse()
	var err error
	switch {
	case *guest && os.Getenv("HANET_IN_VM") == "1":
		err = guestMain()
	case *guest:
		err = errors.New("-guest: not in the qemu guest (HANET_IN_VM unset)")
	default:
		err = hostMain()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bondbench:", err)
		os.Exit(1)
	}
}

// agentMain is the agent: ocf.Main with bond.Agent, then the peak RSS.
func agentMain() int {
	code := ocf.Main(context.Background(), bond.Agent{}, os.Args, os.Environ(), os.Stdout, os.Stderr)
	if f := os.Getenv("HANET_BENCH_RSS"); f != "" {
		_ = os.WriteFile(f, []byte(strconv.FormatFloat(vmHWM(), 'f', 0, 64)), 0o644)
	}
	return int(code)
}

// vmHWM is this process's peak RSS in bytes.
func vmHWM() float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// Markers of the guest's output: Markdown between begin and end goes to
// stdout, the results line to BENCH_OUT, anything else to stderr.
const (
	mdBegin  = "=== bondbench markdown ==="
	mdEnd    = "=== bondbench end ==="
	jsonLine = "BENCHJSON "
)

// hostMain boots this binary in the guest and relays its output.
func hostMain() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		fmt.Println("### ocf:hanet:bond in the qemu guest")
		fmt.Println()
		fmt.Println("Skipped: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86; tests/deps does).")
		return nil
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if dynamic(self) {
		return fmt.Errorf("%s is dynamically linked: build it with CGO_ENABLED=0 (tests/bench/run does)", self)
	}
	cmd := exec.Command(filepath.Join(root, "tests", "vm", "run"), self, "-guest", "-rounds", strconv.Itoa(*rounds), "-budget", budget.String())
	cmd.Env = append(os.Environ(), fmt.Sprintf("HANET_VM_TIMEOUT=%d", *timeout))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	var res *benchkit.Results
	inMD := false
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == mdBegin:
			inMD = true
		case line == mdEnd:
			inMD = false
		case strings.HasPrefix(line, jsonLine):
			res = &benchkit.Results{}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, jsonLine)), res); err != nil {
				return fmt.Errorf("results from the guest: %w", err)
			}
		case inMD:
			fmt.Println(line)
		default:
			fmt.Fprintln(os.Stderr, "  guest:", line)
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("guest: %w", err)
	}
	if res == nil {
		return errors.New("the guest reported no results")
	}
	fmt.Printf("Guest run, boot included: %v.\n", time.Since(began).Round(time.Second))
	return res.Write()
}

// repoRoot is $HANET_ROOT or the directory above the working directory
// holding go.mod.
func repoRoot() (string, error) {
	if r := os.Getenv("HANET_ROOT"); r != "" {
		return r, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tests", "vm", "run")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("tests/vm/run not found above the working directory (set HANET_ROOT)")
		}
		dir = parent
	}
}

// dynamic reports whether the ELF file at path asks for a dynamic loader.
func dynamic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// say prints progress (to the host's stderr).
func say(format string, args ...any) {
	fmt.Printf("progress: "+format+"\n", args...)
}

// A config is one bond configuration and its lab.
type config struct {
	key, label string
	short      string // in the plot
	mode       string
	params     []string // besides name, slaves, mode
	peerMode   string   // "" bridge
	arp        bool     // failure = tc drop (ARP monitor)
	lacp       bool

	lab   *lab
	state string

	startWall, carrier, monWall, monCPU, stopWall []float64
	failover, gap, lost, restore                  []float64
	rss                                           []float64
	degraded                                      int // monitors after start that said 190
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func guestMain() error {
	began := time.Now()
	cfgs := []*config{
		{key: "ab-mii", short: "active-backup miimon", label: "active-backup, miimon 100", mode: "active-backup", params: []string{"miimon=100"}},
		{key: "ab-arp", short: "active-backup ARP", label: "active-backup, ARP monitor 100 ms (arp_validate all)", mode: "active-backup", arp: true,
			params: []string{"arp_interval=100", "arp_validate=all"}},
		{key: "tlb", short: "balance-tlb miimon", label: "balance-tlb, miimon 100", mode: "balance-tlb", params: []string{"miimon=100"}},
		{key: "alb", short: "balance-alb miimon", label: "balance-alb, miimon 100", mode: "balance-alb", params: []string{"miimon=100"}},
		{key: "lacp", short: "802.3ad fast", label: "802.3ad, lacp_rate fast, miimon 100", mode: "802.3ad", lacp: true, peerMode: "802.3ad",
			params: []string{"miimon=100", "lacp_rate=fast"}},
	}
	here, err := netns.Get()
	if err != nil {
		return err
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	for i, c := range cfgs {
		c.lab, err = newLab(h, here, i+1, c.peerMode)
		if err != nil {
			return fmt.Errorf("%s lab: %w", c.key, err)
		}
		defer c.lab.close()
		if c.arp {
			c.params = append(c.params, "arp_ip_target="+c.lab.peerIP())
		}
		c.state = filepath.Join("/run", "bench-"+c.key)
		if err := os.MkdirAll(c.state, 0o755); err != nil {
			return err
		}
	}
	say("labs ready after %v", time.Since(began).Round(time.Millisecond))

	carrier := newCarrierWatch()
	defer carrier.close()
	done := 0
	for r := range *rounds {
		if r >= 3 && time.Since(began) > *budget {
			say("budget %v spent: %d rounds instead of %d", *budget, r, *rounds)
			break
		}
		done++
		for k := range cfgs {
			c := cfgs[(r+k)%len(cfgs)]
			t := time.Now()
			if err := c.round(carrier); err != nil {
				return fmt.Errorf("%s round %d: %w", c.key, r+1, err)
			}
			say("%s: round %d in %v", c.key, r+1, time.Since(t).Round(time.Millisecond))
		}
		say("round %d/%d done after %v", r+1, *rounds, time.Since(began).Round(time.Second))
	}
	report(cfgs, done, time.Since(began))
	return nil
}

// agent runs one action of c's bond; it returns the result and the
// agent's peak RSS.
func (c *config) agent(action string, env ...string) (benchkit.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return benchkit.Result{}, err
	}
	rssFile := filepath.Join(c.state, "rss")
	e := append([]string{
		"PATH=/sbin:/bin:/usr/sbin:/usr/bin",
		"HANET_AS_AGENT=1", "HANET_BENCH_RSS=" + rssFile,
		"HA_RSCTMP=" + c.state, "OCF_ROOT=/usr/lib/ocf", "OCF_RESOURCE_INSTANCE=bench-" + c.key,
		"OCF_RESKEY_CRM_meta_timeout=20000",
		"OCF_RESKEY_name=" + c.lab.bond, "OCF_RESKEY_slaves=" + strings.Join(c.lab.slaves, " "), "OCF_RESKEY_mode=" + c.mode,
	}, env...)
	for _, p := range c.params {
		e = append(e, "OCF_RESKEY_"+p)
	}
	r, err := benchkit.Run(netns.None(), e, self, action)
	if err != nil {
		return r, err
	}
	if r.Code != 0 && !(action == "monitor" && r.Code == int(ocf.Degraded)) {
		return r, fmt.Errorf("%s = %d:\n%s", action, r.Code, r.Output)
	}
	if b, err := os.ReadFile(rssFile); err == nil {
		if v, err := strconv.ParseFloat(string(b), 64); err == nil {
			c.rss = append(c.rss, v)
		}
	}
	return r, nil
}

// round: start, monitor, two failovers, stop.
func (c *config) round(cw *carrierWatch) error {
	l := c.lab
	cw.arm(l.bond)
	start, err := c.agent("start")
	if err != nil {
		return err
	}
	up, ok := cw.wait(l.bond, 2*time.Second)
	if !ok {
		return errors.New("no IFF_LOWER_UP event for the bond")
	}
	c.startWall = append(c.startWall, benchkit.DurMs(start.Wall))
	c.carrier = append(c.carrier, benchkit.DurMs(up.Sub(start.T0)))
	if err := l.addr(); err != nil {
		return err
	}
	if err := l.ping(); err != nil {
		return err
	}
	mon, err := c.agent("monitor", "OCF_RESKEY_CRM_meta_interval=10000")
	if err != nil {
		return err
	}
	c.monWall, c.monCPU = append(c.monWall, benchkit.DurMs(mon.Wall)), append(c.monCPU, benchkit.DurMs(mon.CPU))
	if mon.Code != 0 {
		c.degraded++
		say("%s: monitor after start: %d: %s", c.key, mon.Code, lastLine(mon.Output))
	}
	for range 2 {
		if err := c.failoverOnce(); err != nil {
			return err
		}
	}
	stop, err := c.agent("stop")
	if err != nil {
		return err
	}
	c.stopWall = append(c.stopWall, benchkit.DurMs(stop.Wall))
	return nil
}

// failoverOnce fails the port carrying traffic, measures, and restores it.
func (c *config) failoverOnce() error {
	l := c.lab
	var i int
	var active string
	if c.lacp {
		i = len(c.failover) % 2
	} else {
		active = l.sysfs("bonding/active_slave")
		i = indexOf(l.slaves, active)
		if i < 0 {
			return fmt.Errorf("active_slave %q is not a port", active)
		}
	}
	if c.arp {
		if err := l.prepareDrop(i); err != nil {
			return err
		}
	}
	s, err := l.stream(5 * time.Millisecond)
	if err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond)
	t0 := time.Now()
	if c.arp {
		err = l.drop(i)
	} else {
		err = l.peerLink(i, false)
	}
	if err != nil {
		s.stop()
		return err
	}
	done := func() bool {
		if c.lacp {
			return readFile(filepath.Join("/sys/class/net", l.slaves[i], "bonding_slave/mii_status")) == "down"
		}
		now := l.sysfs("bonding/active_slave")
		return now != active && now != ""
	}
	for !done() {
		if time.Since(t0) > 5*time.Second {
			s.stop()
			return fmt.Errorf("no failover from %s after 5 s", l.slaves[i])
		}
		time.Sleep(time.Millisecond)
	}
	fo := time.Since(t0)
	// Wait for traffic to resume (an echo after the failover), then a bit.
	for !s.echoedAfter(t0.Add(fo)) && time.Since(t0) < 5*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	sent, lost, gap := s.stop()
	c.failover = append(c.failover, benchkit.DurMs(fo))
	c.gap = append(c.gap, benchkit.DurMs(gap))
	c.lost = append(c.lost, float64(lost))
	_ = sent

	t1 := time.Now()
	if c.arp {
		err = l.undrop(i)
	} else {
		err = l.peerLink(i, true)
	}
	if err != nil {
		return err
	}
	for !l.allUp(c.lacp) {
		if time.Since(t1) > 10*time.Second {
			return fmt.Errorf("ports not all up 10 s after restoring %s", l.slaves[i])
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.restore = append(c.restore, benchkit.DurMs(time.Since(t1)))
	return nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

// lab is one configuration's network: ports h<id>a0, h<id>a1 here, their
// peers p0, p1 in a peer namespace on a bridge or a peer bond holding
// 10.99.<id>.2/24 with a UDP echo server on port 7.
type lab struct {
	id     int
	h, ph  *netlink.Handle
	here   netns.NsHandle
	peer   netns.NsHandle
	bond   string
	slaves []string
	peers  []string
	echo   *net.UDPConn
}

func newLab(h *netlink.Handle, here netns.NsHandle, id int, peerMode string) (*lab, error) {
	l := &lab{id: id, h: h, here: here, bond: fmt.Sprintf("h%db", id)}
	var err error
	if l.peer, err = benchkit.NewNS(); err != nil {
		return nil, err
	}
	if l.ph, err = netlink.NewHandleAt(l.peer, unix.NETLINK_ROUTE); err != nil {
		return nil, err
	}
	var master netlink.Link
	if peerMode == "" {
		br := &netlink.Bridge{LinkAttrs: netlink.NewLinkAttrs()}
		br.Name = "br0"
		master = br
	} else {
		pb := netlink.NewLinkBond(netlink.NewLinkAttrs())
		pb.Name = "pb0"
		pb.Mode = netlink.StringToBondMode(peerMode)
		pb.Miimon = 100
		pb.LacpRate = netlink.BOND_LACP_RATE_FAST
		master = pb
	}
	if err := l.ph.LinkAdd(master); err != nil {
		return nil, fmt.Errorf("peer %s: %w", master.Attrs().Name, err)
	}
	for i := range 2 {
		a, p := fmt.Sprintf("h%da%d", id, i), fmt.Sprintf("p%d", i)
		if err := benchkit.Veth(here, a, 0, l.peer, p); err != nil {
			return nil, err
		}
		pl, err := l.ph.LinkByName(p)
		if err != nil {
			return nil, err
		}
		if err := l.ph.LinkSetDown(pl); err != nil {
			return nil, err
		}
		if err := l.ph.LinkSetMaster(pl, master); err != nil {
			return nil, err
		}
		if err := l.ph.LinkSetUp(pl); err != nil {
			return nil, err
		}
		l.slaves = append(l.slaves, a)
		l.peers = append(l.peers, p)
	}
	if err := l.ph.LinkSetUp(master); err != nil {
		return nil, err
	}
	if err := benchkit.AddAddr(l.peer, master.Attrs().Name, l.peerIP()+"/24"); err != nil {
		return nil, err
	}
	err = benchkit.InNS(l.peer, func() error {
		var err error
		l.echo, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(l.peerIP()), Port: 7})
		return err
	})
	if err != nil {
		return nil, err
	}
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := l.echo.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = l.echo.WriteToUDP(buf[:n], from)
		}
	}()
	return l, nil
}

func (l *lab) close() {
	if l.echo != nil {
		l.echo.Close()
	}
	if b, err := l.h.LinkByName(l.bond); err == nil {
		_ = l.h.LinkDel(b)
	}
	for _, s := range l.slaves {
		if v, err := l.h.LinkByName(s); err == nil {
			_ = l.h.LinkDel(v)
		}
	}
	if l.ph != nil {
		l.ph.Close()
	}
	l.peer.Close()
}

func (l *lab) ourIP() string  { return fmt.Sprintf("10.99.%d.1", l.id) }
func (l *lab) peerIP() string { return fmt.Sprintf("10.99.%d.2", l.id) }

func (l *lab) addr() error { return benchkit.AddAddr(l.here, l.bond, l.ourIP()+"/24") }

func (l *lab) sysfs(attr string) string {
	return readFile(filepath.Join("/sys/class/net", l.bond, attr))
}

// allUp reports whether every port is mii up (802.3ad: and in the bond's
// active aggregator).
func (l *lab) allUp(lacp bool) bool {
	agg := l.sysfs("bonding/ad_aggregator")
	for _, s := range l.slaves {
		if readFile(filepath.Join("/sys/class/net", s, "bonding_slave/mii_status")) != "up" {
			return false
		}
		if lacp && readFile(filepath.Join("/sys/class/net", s, "bonding_slave/ad_aggregator_id")) != agg {
			return false
		}
	}
	return true
}

// peerLink sets peer end i down or up.
func (l *lab) peerLink(i int, up bool) error {
	pl, err := l.ph.LinkByName(l.peers[i])
	if err != nil {
		return err
	}
	if up {
		return l.ph.LinkSetUp(pl)
	}
	return l.ph.LinkSetDown(pl)
}

// prepareDrop adds a clsact qdisc on peer end i (no effect by itself);
// drop then drops every frame through it, both ways, with two matchall
// filters (two netlink requests, no process: the failure starts within
// microseconds of the call); undrop deletes the qdisc and its filters.
func (l *lab) prepareDrop(i int) error {
	pl, err := l.ph.LinkByName(l.peers[i])
	if err != nil {
		return err
	}
	q := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: pl.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0),
		Parent: netlink.HANDLE_CLSACT}}
	if err := l.ph.QdiscAdd(q); err != nil {
		return fmt.Errorf("clsact on %s: %w", l.peers[i], err)
	}
	return nil
}

func (l *lab) drop(i int) error {
	pl, err := l.ph.LinkByName(l.peers[i])
	if err != nil {
		return err
	}
	for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
		f := &netlink.MatchAll{
			FilterAttrs: netlink.FilterAttrs{LinkIndex: pl.Attrs().Index, Parent: parent, Priority: 1, Protocol: unix.ETH_P_ALL},
			Actions:     []netlink.Action{&netlink.GenericAction{ActionAttrs: netlink.ActionAttrs{Action: netlink.TC_ACT_SHOT}}},
		}
		if err := l.ph.FilterAdd(f); err != nil {
			return fmt.Errorf("drop on %s: %w", l.peers[i], err)
		}
	}
	return nil
}

func (l *lab) undrop(i int) error {
	pl, err := l.ph.LinkByName(l.peers[i])
	if err != nil {
		return err
	}
	q := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: pl.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0),
		Parent: netlink.HANDLE_CLSACT}}
	return l.ph.QdiscDel(q)
}

// ping waits until the echo server answers over the bond, for up to 5 s.
func (l *lab) ping() error {
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(l.peerIP()), Port: 7})
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 16)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, _ = conn.Write([]byte("ping"))
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := conn.Read(buf); err == nil {
			return nil
		}
	}
	return fmt.Errorf("no echo from %s over %s", l.peerIP(), l.bond)
}

// A stream is a testutil.UDPStream to the echo server.
type stream struct{ *testutil.UDPStream }

func (l *lab) stream(interval time.Duration) (*stream, error) {
	us, err := testutil.StartUDPStream(&net.UDPAddr{IP: net.ParseIP(l.peerIP()), Port: 7}, interval)
	if err != nil {
		return nil, err
	}
	return &stream{us}, nil
}

// echoedAfter reports whether an echo came back after t.
func (s *stream) echoedAfter(t time.Time) bool { return s.EchoedAfter(t) }

// stop ends the stream and returns datagrams sent and lost and the longest
// time without an echo.
func (s *stream) stop() (sent, lost int, gap time.Duration) { return s.Stop(20 * time.Millisecond) }

// carrierWatch records when a link first reports IFF_LOWER_UP after arm,
// from a netlink subscription.
type carrierWatch struct {
	done chan struct{}
	mu   sync.Mutex
	name string
	at   time.Time
}

func newCarrierWatch() *carrierWatch {
	w := &carrierWatch{done: make(chan struct{})}
	ch := make(chan netlink.LinkUpdate, 64)
	if err := netlink.LinkSubscribe(ch, w.done); err != nil {
		say("netlink subscribe: %v", err)
		return w
	}
	go func() {
		for u := range ch {
			now := time.Now()
			if u.Link == nil || u.Header.Type != unix.RTM_NEWLINK || u.IfInfomsg.Flags&unix.IFF_LOWER_UP == 0 {
				continue
			}
			w.mu.Lock()
			if u.Link.Attrs().Name == w.name && w.at.IsZero() {
				w.at = now
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *carrierWatch) arm(name string) {
	w.mu.Lock()
	w.name, w.at = name, time.Time{}
	w.mu.Unlock()
}

func (w *carrierWatch) wait(name string, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		at := w.at
		w.mu.Unlock()
		if !at.IsZero() {
			return at, true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, false
}

func (w *carrierWatch) close() { close(w.done) }

// report prints the Markdown between the markers and the results line.
func report(cfgs []*config, rounds int, took time.Duration) {
	res := benchkit.Results{Bench: "bondbench"}
	var u unix.Utsname
	_ = unix.Uname(&u)
	fmt.Println(mdBegin)
	fmt.Printf("### ocf:hanet:bond in the qemu guest\n\n")
	fmt.Printf("Kernel %s in qemu TCG (no KVM, 1 vCPU, 512 MiB): processes run several times slower than on hardware, "+
		"the bonding driver's timers (miimon, arp_interval, LACPDUs) in real time. %d rounds, each running every "+
		"configuration in turn (one start/monitor/stop and two failovers each), %v in the guest. Median (p10–p90). "+
		"The agent is the bench binary itself (agents/bond through ocf.Main, HANET_AS_AGENT=1), one process per action.\n\n",
		unix.ByteSliceToString(u.Release[:]), rounds, took.Round(time.Second))
	fmt.Println("| configuration | start (returns with every port up; 802.3ad: aggregated with the partner) | exec → bond carrier (IFF_LOWER_UP) | monitor wall | monitor CPU | monitor said degraded | stop wall | peak RSS (any action) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	peak := 0.0
	for _, c := range cfgs {
		p := 0.0
		for _, v := range c.rss {
			p = max(p, v)
		}
		peak = max(peak, p)
		fmt.Printf("| %s | %s | %s | %s | %s | %d of %d | %s | %.1f MB |\n", c.label, benchkit.MsCell(c.startWall), benchkit.MsCell(c.carrier),
			benchkit.MsCell(c.monWall), benchkit.MsCell(c.monCPU), c.degraded, len(c.monWall), benchkit.MsCell(c.stopWall), p/1e6)
	}
	fmt.Println()
	fmt.Println("Failover: the port carrying traffic fails (peer end down; ARP monitor: all frames dropped at the peer end, " +
		"link up); new active_slave named by the driver (802.3ad: the port's mii_status down, out of the aggregator); " +
		"longest time without an echo of a UDP stream sent every 5 ms; restore = port back → every port up again " +
		"(802.3ad: re-aggregated, the LACP convergence). 802.3ad: the one UDP flow hashes onto one member (layer2), " +
		"so failing the other member loses nothing (gap ≈ 5 ms); the occasional gaps of a second or more in its p90 are " +
		"measured, not explained here. Each failover alternates between the members.")
	fmt.Println()
	fmt.Println("| configuration | failovers | failure → new active port | longest traffic gap | datagrams lost | port back → all ports up |")
	fmt.Println("|---|---:|---|---|---|---|")
	for _, c := range cfgs {
		fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", c.label, len(c.failover), benchkit.MsCell(c.failover), benchkit.MsCell(c.gap),
			benchkit.Cell(c.lost, ""), benchkit.MsCell(c.restore))
		res.Add("bond: failure → failover (ms, log), qemu guest", c.short, "ms", true, c.failover)
		res.Add("bond: start action, every port up (ms, log), qemu guest", c.short, "ms", true, c.startWall)
	}
	fmt.Println()
	v := res.Check("bond peak RSS ≤ 15 MB (every action, in the guest)", fmt.Sprintf("%.1f MB (%.1f MiB)", peak/1e6, peak/(1<<20)),
		peak > 0 && peak <= rssLimit)
	fmt.Println("Targets:")
	fmt.Println(v.Line())
	fmt.Println(mdEnd)
	b, _ := json.Marshal(res)
	fmt.Println(jsonLine + string(b))
}
