// Package vip is the policy of the ocf:hanet:vip resource agent: what
// start, stop, monitor, validate-all and reload-agent mean for a virtual IP
// address, and which failure is which OCF exit code. Kernel work is done by
// pkg/netif (addresses, links, routes) and pkg/garp (announcements).
package vip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hanet/hanet/pkg/garp"
	"github.com/hanet/hanet/pkg/netif"
	"github.com/hanet/hanet/pkg/ocf"
)

// Agent is the ocf:hanet:vip resource agent. It holds no state: everything
// an action needs comes from its Call and the state directory.
type Agent struct{}

var (
	_ ocf.Agent    = Agent{}
	_ ocf.Reloader = Agent{}
	_ ocf.Helper   = Agent{}
)

// Spec returns the agent's parameter table and actions.
func (Agent) Spec() *ocf.Spec { return &Spec }

// record is what start leaves in the state directory, so monitor and stop
// act on what start did even when nic and prefix were detected.
type record struct {
	IP     string `json:"ip"`
	NIC    string `json:"nic"`
	Prefix int    `json:"prefix"`
	Label  string `json:"label,omitempty"`
}

func statePath(c *ocf.Call, ip netip.Addr, suffix string) string {
	return c.State.Path("vip", ip.String(), suffix)
}

func config(c *ocf.Call) (*Config, error) {
	return parseConfig(c.Params, c.Log.Warnf)
}

func open() (*netif.Handle, error) {
	h, err := netif.Open()
	if err != nil {
		return nil, kernelErr(err, "open netlink")
	}
	return h, nil
}

// kernelErr maps a kernel failure to an exit code: missing privilege is 4,
// anything else 1.
func kernelErr(err error, what string) error {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return ocf.Wrap(ocf.ErrPerm, err, what+" (needs root: CAP_NET_ADMIN, CAP_NET_RAW)")
	}
	return ocf.Wrap(ocf.ErrGeneric, err, what)
}

// placement is where the address goes: the interface and the prefix, from
// the parameters or from the routing table.
func placement(h *netif.Handle, cfg *Config) (netlink.Link, int, error) {
	var link netlink.Link
	if cfg.NIC != "" {
		l, err := h.LinkByName(cfg.NIC)
		if errors.Is(err, netif.ErrLinkNotFound) {
			return nil, 0, ocf.Errorf(ocf.ErrArgs, "nic %s does not exist on this node", cfg.NIC)
		}
		if err != nil {
			return nil, 0, kernelErr(err, "look up nic "+cfg.NIC)
		}
		link = l
		if cfg.Prefix >= 0 {
			return link, cfg.Prefix, nil
		}
	}
	r, err := h.RouteFor(cfg.IP, cfg.NIC)
	if errors.Is(err, netif.ErrNoRoute) {
		what := "interface and prefix"
		if cfg.NIC != "" {
			what = "prefix on " + cfg.NIC
		}
		return nil, 0, ocf.Errorf(ocf.ErrArgs, "no route on this node contains %s: cannot find the %s (set nic and cidr_netmask)", cfg.IP, what)
	}
	if err != nil {
		return nil, 0, kernelErr(err, "route lookup")
	}
	prefix := cfg.Prefix
	if prefix < 0 {
		prefix = r.Prefix.Bits()
	}
	if link == nil {
		link = r.Link
	}
	return link, prefix, nil
}

// Validate checks the parameters; at OCF_CHECK_LEVEL 10 it also checks that
// this node can place the address.
func (Agent) Validate(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	if c.CheckLevel < 10 {
		return nil
	}
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()
	_, _, err = placement(h, cfg)
	return err
}

// Start adds the address, waits for IPv6 duplicate address detection and
// for the link, and announces the address. It is idempotent and leaves
// nothing behind when it fails.
func (a Agent) Start(ctx context.Context, c *ocf.Call) (err error) {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	lock, err := c.State.Lock(ctx, "vip", cfg.IP.String())
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "start")
	}
	defer lock.Unlock()
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()

	link, prefix, err := placement(h, cfg)
	if err != nil {
		return err
	}
	name := link.Attrs().Name
	label, err := netif.AddrLabel(name, cfg.Label)
	if err != nil {
		return ocf.Errorf(ocf.ErrArgs, "iflabel on this node: %v", err)
	}

	// Already there?
	cur, addr, err := h.FindAddr(cfg.IP)
	switch {
	case err == nil && cur.Attrs().Index == link.Attrs().Index && addr.IPNet != nil:
		if ones, _ := addr.Mask.Size(); ones == prefix {
			c.Log.Infof("%s/%d is already on %s", cfg.IP, prefix, name)
			return a.save(c, cfg, name, prefix, label)
		}
		got, _ := addr.Mask.Size()
		return ocf.Errorf(ocf.ErrGeneric, "%s is already on %s with prefix /%d, not /%d: remove it first", cfg.IP, name, got, prefix)
	case err == nil:
		return ocf.Errorf(ocf.ErrGeneric, "%s is already configured on %s, not on %s", cfg.IP, cur.Attrs().Name, name)
	case !errors.Is(err, netif.ErrAddrNotFound):
		return kernelErr(err, "look for "+cfg.IP.String())
	}

	if cfg.RunARPing && cfg.Is4() {
		ifi, ierr := net.InterfaceByIndex(link.Attrs().Index)
		if ierr != nil {
			return kernelErr(ierr, "interface "+name)
		}
		if err := h.SetUp(link); err != nil {
			return kernelErr(err, "set "+name+" up")
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		owner, found, perr := garp.Probe(pctx, ifi, cfg.IP, time.Second)
		cancel()
		if perr != nil && !errors.Is(perr, context.DeadlineExceeded) {
			return kernelErr(perr, "duplicate address probe for "+cfg.IP.String())
		}
		if found {
			return ocf.Errorf(ocf.ErrGeneric, "%s is in use by %s on %s: refusing to take it over", cfg.IP, owner, name)
		}
	}

	pfx := netip.PrefixFrom(cfg.IP, prefix)
	opts := netif.AddrOpts{
		Label:         cfg.Label,
		Broadcast:     cfg.Broadcast,
		NoDAD:         cfg.NoDAD,
		NoPrefixRoute: cfg.NoPrefixRoute,
		PreferredLft:  cfg.PreferredLft,
	}
	if err := h.SetUp(link); err != nil {
		return kernelErr(err, "set "+name+" up")
	}
	if err := h.AddrReplace(link, pfx, opts); err != nil {
		return kernelErr(err, fmt.Sprintf("add %s to %s", pfx, name))
	}
	defer func() {
		if err != nil {
			if derr := h.AddrDel(link, pfx); derr != nil {
				c.Log.Errorf("rollback: remove %s from %s: %v", pfx, name, derr)
			}
			_ = c.State.Remove(statePath(c, cfg.IP, ""))
		}
	}()

	if cfg.IP.Is6() && !cfg.NoDAD {
		if err := h.WaitDAD(ctx, link, cfg.IP); err != nil {
			if errors.Is(err, netif.ErrDADFailed) {
				return ocf.Errorf(ocf.ErrGeneric, "%s failed duplicate address detection on %s: another host has it", cfg.IP, name)
			}
			return ocf.Wrap(ocf.ErrGeneric, err, "duplicate address detection for "+cfg.IP.String())
		}
	}
	if err := a.save(c, cfg, name, prefix, label); err != nil {
		return err
	}
	if cfg.ARPCount == 0 {
		return nil
	}
	if _, err := h.WaitOperUp(ctx, name); err != nil {
		return ocf.Errorf(ocf.ErrGeneric, "%s has no carrier (no active link or slave) within the start timeout: %v", name, err)
	}
	return announceStart(ctx, c, cfg, name)
}

func (Agent) save(c *ocf.Call, cfg *Config, nic string, prefix int, label string) error {
	rec := record{IP: cfg.IP.String(), NIC: nic, Prefix: prefix, Label: label}
	if err := c.State.Save(statePath(c, cfg.IP, ""), rec); err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "save state")
	}
	return nil
}

// announceStart sends the start burst: the first round in the foreground,
// the rest from a detached child when arp_bg is set.
func announceStart(ctx context.Context, c *ocf.Call, cfg *Config, nic string) error {
	ifi, err := net.InterfaceByName(nic)
	if err != nil {
		return kernelErr(err, "interface "+nic)
	}
	s, err := garp.Open(ifi, cfg.IP)
	if err != nil {
		return kernelErr(err, "open announcer on "+nic)
	}
	defer s.Close()
	rounds := cfg.ARPCount
	if cfg.ARPBackground && rounds > 1 {
		rounds = 1
	}
	if err := garp.Announce(ctx, s, rounds, cfg.ARPInterval); err != nil {
		return ocf.Errorf(ocf.ErrGeneric, "announce %s on %s: %v", cfg.IP, nic, err)
	}
	if rounds == cfg.ARPCount {
		return nil
	}
	pid, err := ocf.Spawn("garp", append(c.Params.Environ(),
		"HANET_VIP_NIC="+nic,
		"HANET_VIP_ROUNDS="+strconv.Itoa(cfg.ARPCount-1),
		"OCF_RESOURCE_INSTANCE="+c.Instance,
		"HA_RSCTMP="+c.State.Dir,
	), "")
	if err != nil {
		c.Log.Warnf("background announcements: %v; sending them now", err)
		return garp.Announce(ctx, s, cfg.ARPCount-1, cfg.ARPInterval)
	}
	_ = os.WriteFile(statePath(c, cfg.IP, ".garp.pid"), []byte(strconv.Itoa(pid)+"\n"), 0o600)
	return nil
}

// Helper runs the hidden "__garp" action: the tail of the start burst, in
// a detached child of start. Send errors go to the agent log.
func (Agent) Helper(ctx context.Context, c *ocf.Call, name string) error {
	if name != "garp" {
		return ocf.Errorf(ocf.ErrUnimplemented, "no helper %q", name)
	}
	cfg, err := config(c)
	if err != nil {
		return err
	}
	pidFile := statePath(c, cfg.IP, ".garp.pid")
	defer os.Remove(pidFile)
	rounds, _ := strconv.Atoi(c.Getenv("HANET_VIP_ROUNDS"))
	nic := c.Getenv("HANET_VIP_NIC")
	ifi, err := net.InterfaceByName(nic)
	if err != nil {
		return err
	}
	s, err := garp.Open(ifi, cfg.IP)
	if err != nil {
		c.Log.Errorf("background announcements of %s on %s: %v", cfg.IP, nic, err)
		return err
	}
	defer s.Close()
	time.Sleep(cfg.ARPInterval)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rounds+1)*cfg.ARPInterval+5*time.Second)
	defer cancel()
	if err := garp.Announce(ctx, s, rounds, cfg.ARPInterval); err != nil {
		c.Log.Errorf("background announcements of %s on %s: %v", cfg.IP, nic, err)
		return err
	}
	return nil
}

// killBackground stops a background announcer of ip, if one runs.
func killBackground(c *ocf.Call, ip netip.Addr) {
	path := statePath(c, ip, ".garp.pid")
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err == nil && pid > 1 {
		if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(cmd), "__garp") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = os.Remove(path)
}

// Stop removes the address wherever it is and the state start left. It
// succeeds when the address or its interface is already gone.
func (Agent) Stop(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		c.Log.Warnf("stop: %v: no address of ours can be configured", err)
		return nil
	}
	lock, err := c.State.Lock(ctx, "vip", cfg.IP.String())
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "stop")
	}
	defer lock.Unlock()
	killBackground(c, cfg.IP)
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()
	link, addr, err := h.FindAddr(cfg.IP)
	switch {
	case errors.Is(err, netif.ErrAddrNotFound):
		c.Log.Infof("%s is not configured", cfg.IP)
	case err != nil:
		return kernelErr(err, "look for "+cfg.IP.String())
	default:
		ones, _ := addr.Mask.Size()
		pfx := netip.PrefixFrom(cfg.IP, ones)
		if err := h.AddrDel(link, pfx); err != nil {
			if _, _, ferr := h.FindAddr(cfg.IP); !errors.Is(ferr, netif.ErrAddrNotFound) {
				return kernelErr(err, fmt.Sprintf("remove %s from %s", pfx, link.Attrs().Name))
			}
		}
		c.Log.Infof("removed %s from %s", pfx, link.Attrs().Name)
	}
	if cfg.FlushRoutes {
		if err := netif.FlushRouteCache(cfg.IP); err != nil {
			c.Log.Warnf("flush route cache: %v", err)
		}
	}
	return c.State.Remove(statePath(c, cfg.IP, ""))
}

// Monitor reports whether the address is on the right interface with the
// right prefix and that interface is up.
func (Agent) Monitor(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()
	link, addr, err := h.FindAddr(cfg.IP)
	if errors.Is(err, netif.ErrAddrNotFound) {
		return ocf.ErrNotRunning
	}
	if err != nil {
		return kernelErr(err, "look for "+cfg.IP.String())
	}
	name := link.Attrs().Name
	var rec record
	hasRec := c.State.Load(statePath(c, cfg.IP, ""), &rec) == nil
	wantNIC, wantPrefix := cfg.NIC, cfg.Prefix
	if hasRec {
		if wantNIC == "" {
			wantNIC = rec.NIC
		}
		if wantPrefix < 0 {
			wantPrefix = rec.Prefix
		}
	}
	if wantNIC != "" && name != wantNIC {
		return ocf.Errorf(ocf.ErrNotRunning, "%s is on %s, not on %s", cfg.IP, name, wantNIC)
	}
	if ones, _ := addr.Mask.Size(); wantPrefix >= 0 && ones != wantPrefix {
		return ocf.Errorf(ocf.ErrNotRunning, "%s has prefix /%d, not /%d", cfg.IP, ones, wantPrefix)
	}
	if cfg.CheckLinkStatus && !netif.IsUp(link) {
		return ocf.Errorf(ocf.ErrNotRunning, "%s is on %s, but %s is down or has no carrier", cfg.IP, name, name)
	}
	if c.Probe {
		return nil
	}
	ifi, err := net.InterfaceByIndex(link.Attrs().Index)
	if err != nil {
		return kernelErr(err, "interface "+name)
	}
	if c.CheckLevel >= 10 {
		owner, found, err := garp.Probe(ctx, ifi, cfg.IP, 500*time.Millisecond)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return kernelErr(err, "duplicate check for "+cfg.IP.String())
		}
		if found {
			return ocf.Errorf(ocf.ErrGeneric, "another host (%s) answers for %s on %s", owner, cfg.IP, name)
		}
	}
	if cfg.ARPCountRefresh > 0 {
		s, err := garp.Open(ifi, cfg.IP)
		if err == nil {
			err = garp.Announce(ctx, s, cfg.ARPCountRefresh, cfg.ARPInterval)
			s.Close()
		}
		if err != nil {
			c.Log.Warnf("refresh announcements of %s on %s: %v", cfg.IP, name, err)
		}
	}
	return nil
}

// Reload applies changed reloadable parameters. They only steer future
// announcements and checks, which read them on every action, so nothing
// in the kernel changes.
func (Agent) Reload(ctx context.Context, c *ocf.Call) error {
	if _, err := config(c); err != nil {
		return err
	}
	c.Log.Infof("reloaded: arp_count=%s arp_interval=%s arp_count_refresh=%s",
		c.Params.String("arp_count"), c.Params.Duration("arp_interval"), c.Params.String("arp_count_refresh"))
	return nil
}
