package vip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hanet/hanet/pkg/garp"
	"github.com/hanet/hanet/pkg/ocf"
)

// Environment of the background announcer (the hidden "__garp" action),
// besides the resource's own OCF_RESKEY_* parameters.
const (
	envNIC    = "HANET_VIP_NIC"    // kernel name of the interface
	envIP     = "HANET_VIP_IP"     // canonical address: stop checks it before killing
	envRounds = "HANET_VIP_ROUNDS" // rounds left to send
	envNext   = "HANET_VIP_NEXT"   // Unix time in ns of the next round's first frame
)

// killWait bounds how long stop waits for a killed announcer to die.
const killWait = time.Second

// burst is how long count rounds of announcements take, from the first
// frame to the last: an IPv4 round is request, interval/2, reply,
// interval/2; an IPv6 round one advertisement, then interval.
func burst(ip netip.Addr, count int, interval time.Duration) time.Duration {
	if count <= 0 {
		return 0
	}
	if ip.Is4() {
		return time.Duration(2*count-1) * interval / 2
	}
	return time.Duration(count-1) * interval
}

// announceStart sends the start burst on link. With arp_bg the first round
// (request and reply back to back) goes out in the foreground and a detached child (ocf.Spawn, a new
// session) sends the rest in the same rhythm, so start returns after the
// first round; the child is started right after the first frame, so it is
// ready when the second round is due. Without arp_bg the whole burst is
// sent before start returns, as much of it as fits in the operation
// timeout (the rest in the background). afterFirst (saving the state)
// runs right after the first frame, off the path to it. A send error in the
// foreground fails the start; the child's errors go to the agent log and
// are relayed by the next monitor.
func announceStart(ctx context.Context, c *ocf.Call, cfg *Config, link netlink.Link, afterFirst func() error) error {
	a := link.Attrs()
	// Built from the link rather than net.InterfaceByIndex, which dumps
	// every link and address again.
	ifi := &net.Interface{Index: a.Index, MTU: a.MTU, Name: a.Name, HardwareAddr: a.HardwareAddr, Flags: a.Flags}
	s, err := garp.Open(ifi, cfg.IP)
	if err != nil {
		return kernelErr(err, "open announcer on "+a.Name)
	}
	defer s.Close()

	fg := cfg.ARPCount
	if cfg.ARPBackground {
		fg = 1
	}
	if dl, ok := ctx.Deadline(); ok && fg > 1 {
		left := time.Until(dl) - 100*time.Millisecond
		for fg > 1 && burst(cfg.IP, fg, cfg.ARPInterval) > left {
			fg--
		}
	}
	if fg < cfg.ARPCount && !cfg.ARPBackground {
		c.Log.Warnf("%d announcement rounds %s apart do not fit in the start timeout: %d now, the rest in the background",
			cfg.ARPCount, cfg.ARPInterval, fg)
	}
	rest := cfg.ARPCount - fg

	start := time.Now()
	first := s.Advertise
	if cfg.IP.Is4() {
		first = s.Request
	}
	if err := first(); err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "announce "+cfg.IP.String())
	}
	if cfg.IP.Is4() && cfg.ARPBackground {
		// With arp_bg the first round's reply follows its request at once,
		// so start returns within milliseconds with both forms on the wire;
		// the child keeps the request, interval/2, reply rhythm from the
		// second round on. Without arp_bg the whole burst keeps it.
		if err := s.Reply(); err != nil {
			return ocf.Wrap(ocf.ErrGeneric, err, "announce "+cfg.IP.String())
		}
	}
	if err := afterFirst(); err != nil {
		return err
	}
	spawned := rest > 0 && startBackground(c, cfg, a.Name, rest, start.Add(time.Duration(fg)*cfg.ARPInterval))
	fail := func(err error) error {
		killBackground(c, cfg.IP)
		return ocf.Wrap(ocf.ErrGeneric, err, "announce "+cfg.IP.String())
	}
	if cfg.IP.Is4() && !cfg.ARPBackground {
		err := garp.SleepUntil(ctx, start.Add(cfg.ARPInterval/2))
		if err == nil {
			err = s.Reply()
		}
		if err != nil {
			return fail(err)
		}
	}
	if fg > 1 {
		err := garp.SleepUntil(ctx, start.Add(cfg.ARPInterval))
		if err == nil {
			err = garp.Announce(ctx, s, fg-1, cfg.ARPInterval)
		}
		if err != nil {
			return fail(err)
		}
	}
	if rest > 0 && !spawned {
		foreground(ctx, c, s, cfg, rest, start.Add(time.Duration(fg)*cfg.ARPInterval))
	}
	return nil
}

// startBackground spawns the background announcer for rounds more rounds,
// the first due at next, and records its pid. It reports whether the child
// started.
func startBackground(c *ocf.Call, cfg *Config, nic string, rounds int, next time.Time) bool {
	env := append(c.Params.Environ(),
		envNIC+"="+nic,
		envIP+"="+cfg.IP.String(),
		envRounds+"="+strconv.Itoa(rounds),
		envNext+"="+strconv.FormatInt(next.UnixNano(), 10),
		"OCF_RESOURCE_INSTANCE="+c.Instance,
		"HA_RSCTMP="+c.State.Dir,
	)
	pid, err := ocf.Spawn("garp", env, statePath(c, cfg.IP, suffixErr))
	if err != nil {
		c.Log.Warnf("background announcements: %v; sending them before start returns", err)
		return false
	}
	if err := os.WriteFile(statePath(c, cfg.IP, suffixPid), []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		c.Log.Warnf("record background announcer pid %d: %v", pid, err)
	}
	c.Log.Debugf("background announcer pid %d sends %d more rounds on %s", pid, rounds, nic)
	return true
}

// foreground sends the rounds the background announcer could not take,
// within the operation timeout; their failure is logged, not fatal: the
// first round went out.
func foreground(ctx context.Context, c *ocf.Call, s *garp.Sender, cfg *Config, rounds int, next time.Time) {
	err := garp.SleepUntil(ctx, next)
	if err == nil {
		err = garp.Announce(ctx, s, rounds, cfg.ARPInterval)
	}
	if err != nil {
		c.Log.Errorf("announcements after the first round: %v", err)
	}
}

// Helper runs the hidden "__garp" action: the tail of the start burst, in
// a detached child of start, keeping the rhythm the foreground round began.
// It stops early when the address leaves the interface. Send errors go to
// the agent log (its stderr is the .garp.err state file that the next
// monitor relays).
func (Agent) Helper(ctx context.Context, c *ocf.Call, name string) error {
	if name != "garp" {
		return ocf.Errorf(ocf.ErrUnimplemented, "no helper %q", name)
	}
	cfg, err := config(c)
	if err != nil {
		return err
	}
	pidFile := statePath(c, cfg.IP, suffixPid)
	defer removeIfOwn(pidFile, os.Getpid())

	rounds, err := strconv.Atoi(c.Getenv(envRounds))
	if err != nil || rounds <= 0 {
		return ocf.Errorf(ocf.ErrConfigured, "%s=%q: want a positive number", envRounds, c.Getenv(envRounds))
	}
	next := time.Now()
	if ns, err := strconv.ParseInt(c.Getenv(envNext), 10, 64); err == nil {
		// Never wait longer than a round for the first frame.
		next = time.Unix(0, ns)
		if lim := time.Now().Add(cfg.ARPInterval); next.After(lim) {
			next = lim
		}
	}
	nic := c.Getenv(envNIC)
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(nic)
	if err != nil {
		return kernelErr(err, "background announcements of "+cfg.IP.String())
	}
	ifi, err := net.InterfaceByIndex(link.Attrs().Index)
	if err != nil {
		return kernelErr(err, "background announcements of "+cfg.IP.String())
	}
	present := func() bool {
		_, _, err := h.FindAddrOn(link, cfg.IP)
		return err == nil
	}

	ctx, cancel := context.WithTimeout(ctx, time.Until(next)+burst(cfg.IP, rounds, cfg.ARPInterval)+5*time.Second)
	defer cancel()
	if err := garp.SleepUntil(ctx, next); err != nil || !present() {
		return nil
	}
	s, err := garp.Open(ifi, cfg.IP)
	if err != nil {
		return kernelErr(err, "background announcements of "+cfg.IP.String()+" on "+nic)
	}
	defer s.Close()
	gone, failed := false, 0
	_ = garp.AnnounceNotify(ctx, s, rounds, cfg.ARPInterval, func(round int, err error) {
		if err != nil {
			// The first failure in full, then a count: the same cause
			// usually fails every round.
			if failed == 0 {
				c.Log.Errorf("announce %s on %s, round %d of %d: %v", cfg.IP, nic, round+1, rounds+1, err)
			}
			failed++
		}
		if round < rounds && !present() {
			gone = true
			cancel()
		}
	})
	if failed > 1 {
		c.Log.Errorf("announce %s on %s: %d of the %d background rounds failed", cfg.IP, nic, failed, rounds)
	}
	if gone {
		c.Log.Debugf("%s left %s: background announcements stopped", cfg.IP, nic)
	}
	return nil
}

// removeIfOwn removes the pid file when it still names pid.
func removeIfOwn(path string, pid int) {
	data, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(data)) == strconv.Itoa(pid) {
		_ = os.Remove(path)
	}
}

// killBackground stops the background announcer of ip, if one runs, and
// waits (briefly) until it is gone, so no announcement follows a stop.
func killBackground(c *ocf.Call, ip netip.Addr) {
	path := statePath(c, ip, suffixPid)
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	defer os.Remove(path)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 || !ocf.IsHelper(pid, "garp", envIP+"="+ip.String()) {
		return
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		if !errors.Is(err, syscall.ESRCH) {
			c.Log.Warnf("stop background announcer pid %d: %v", pid, err)
		}
		return
	}
	for deadline := time.Now().Add(killWait); ocf.Alive(pid) && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	c.Log.Infof("stopped the background announcements of %s (pid %d)", ip, pid)
}

// relayErrors logs, as warnings, what the background announcer of ip wrote
// to its error file (log lines other than errors are dropped), then empties
// the file, or removes it when remove is set.
func relayErrors(c *ocf.Call, ip netip.Addr, remove bool) {
	path := statePath(c, ip, suffixErr)
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var keep []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "INFO:") || strings.HasPrefix(line, "DEBUG:") ||
			strings.HasPrefix(line, "WARNING:") || strings.HasPrefix(line, "ocf-exit-reason:") {
			continue
		}
		keep = append(keep, strings.TrimPrefix(line, "ERROR: "))
	}
	if len(keep) > 0 {
		c.Log.Warnf("background announcements of %s: %s", ip, strings.Join(keep, "; "))
	}
	if remove {
		_ = os.Remove(path)
	} else if len(data) > 0 {
		_ = os.Truncate(path, 0)
	}
}
