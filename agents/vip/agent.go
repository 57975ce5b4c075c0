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
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

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

// State file suffixes, next to the record (suffix "").
const (
	suffixPid = ".garp.pid" // pid of the background announcer
	suffixErr = ".garp.err" // its errors, relayed by the next monitor
)

// probeTimeout bounds the RFC 5227 probe of run_arping; monitorProbeTimeout
// the OCF_CHECK_LEVEL 10 duplicate check.
const (
	probeTimeout        = time.Second
	monitorProbeTimeout = 500 * time.Millisecond
)

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

// kernelErr maps a kernel failure to an exit code: a missing privilege
// (EPERM, or EACCES when not root) is 4, IPv6 disabled on the interface
// (EACCES as root) is 5, anything else 1.
func kernelErr(err error, what string) error {
	switch {
	case errors.Is(err, syscall.EPERM) || (errors.Is(err, os.ErrPermission) && os.Geteuid() != 0):
		return ocf.Wrap(ocf.ErrPerm, err, what+" (needs root: CAP_NET_ADMIN, CAP_NET_RAW)")
	case errors.Is(err, syscall.EACCES):
		return ocf.Wrap(ocf.ErrInstalled, err, what+" (IPv6 disabled on the interface?)")
	}
	return ocf.Wrap(ocf.ErrGeneric, err, what)
}

// family returns the netlink address family of ip.
func family(ip netip.Addr) int {
	if ip.Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

// nicLink resolves the nic parameter (a kernel or alternative name). Absent
// on this node, the error wraps netif.ErrLinkNotFound and carries ErrArgs.
func nicLink(h *netif.Handle, nic string) (netlink.Link, error) {
	l, err := h.LinkByName(nic)
	if errors.Is(err, netif.ErrLinkNotFound) {
		return nil, ocf.Wrap(ocf.ErrArgs, err, "nic "+nic+" does not exist on this node")
	}
	if err != nil {
		return nil, kernelErr(err, "look up nic "+nic)
	}
	return l, nil
}

// loopbackPrefix is the prefix of an IPv4 loopback VIP without
// cidr_netmask: that of the local table's 127.0.0.0/8, as IPaddr2's findif.
const loopbackPrefix = 8

// placement is where the address goes: the interface and the prefix, from
// the parameters or from the routing table (longest prefix, then lowest
// metric; see netif.BestRoute). link is the resolved nic, or nil when nic is
// unset.
func placement(h *netif.Handle, cfg *Config, link netlink.Link) (netlink.Link, int, error) {
	if link != nil && cfg.Prefix >= 0 {
		return link, cfg.Prefix, nil
	}
	r, err := h.RouteFor(cfg.IP, cfg.NIC)
	if errors.Is(err, netif.ErrNoRoute) && cfg.IP.Is4() && cfg.IP.IsLoopback() {
		// 127.0.0.0/8 lives in the local table, which findif reads for 127.*.
		if link == nil {
			if link, err = nicLink(h, "lo"); err != nil {
				return nil, 0, err
			}
		}
		prefix := cfg.Prefix
		if prefix < 0 {
			prefix = loopbackPrefix
		}
		return link, prefix, nil
	}
	if errors.Is(err, netif.ErrLinkNotFound) {
		return nil, 0, ocf.Errorf(ocf.ErrArgs, "nic %s does not exist on this node", cfg.NIC)
	}
	if errors.Is(err, netif.ErrNoRoute) {
		if cfg.NIC != "" {
			return nil, 0, ocf.Errorf(ocf.ErrArgs, "no route on %s contains %s: cannot find the prefix (set cidr_netmask)", cfg.NIC, cfg.IP)
		}
		return nil, 0, ocf.Errorf(ocf.ErrArgs, "no route on this node contains %s: cannot find the interface and prefix (set nic and cidr_netmask)", cfg.IP)
	}
	if err != nil {
		return nil, 0, kernelErr(err, "route lookup for "+cfg.IP.String())
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
// this node can place the address (nic present, a route for the address
// when nic or cidr_netmask is unset, the label fits).
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
	var link netlink.Link
	if cfg.NIC != "" {
		if link, err = nicLink(h, cfg.NIC); err != nil {
			return err
		}
	}
	link, _, err = placement(h, cfg, link)
	if err != nil {
		return err
	}
	if _, err := netif.AddrLabel(link.Attrs().Name, cfg.Label); err != nil {
		return ocf.Errorf(ocf.ErrArgs, "iflabel on this node: %v", err)
	}
	return nil
}

// Start adds the address, waits for IPv6 duplicate address detection and
// for the link, and announces the address. It is idempotent and leaves
// nothing behind when it fails: the address it added is removed and an
// interface it set up is set down again.
func (a Agent) Start(ctx context.Context, c *ocf.Call) (err error) {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	lock, err := c.State.Lock(ctx, "vip", cfg.IP.String())
	if err != nil {
		return kernelErr(err, "start")
	}
	defer lock.Unlock()
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()

	var link netlink.Link
	if cfg.NIC != "" {
		if link, err = nicLink(h, cfg.NIC); err != nil {
			return err
		}
	}
	var lookIn netlink.Link // a link-local address is only looked for on nic
	if cfg.IP.Is6() && cfg.IP.IsLinkLocalUnicast() {
		lookIn = link
	}

	// Already there? (Find, do not re-derive: a route lookup may now be
	// answered by the address itself.)
	cur, addr, ferr := h.FindAddrOn(lookIn, cfg.IP)
	switch {
	case ferr == nil:
		return a.adopt(ctx, c, h, cfg, link, cur, addr)
	case !errors.Is(ferr, netif.ErrAddrNotFound):
		return kernelErr(ferr, "look for "+cfg.IP.String())
	}

	link, prefix, err := placement(h, cfg, link)
	if err != nil {
		return err
	}
	name := link.Attrs().Name
	label, err := netif.AddrLabel(name, cfg.Label)
	if err != nil {
		return ocf.Errorf(ocf.ErrArgs, "iflabel on this node: %v", err)
	}

	// Bring the interface up; set it down again if start fails.
	if link.Attrs().Flags&net.FlagUp == 0 {
		if err := h.SetUp(link); err != nil {
			return kernelErr(err, "set "+name+" up")
		}
		c.Log.Infof("set %s up", name)
		defer func() {
			if err != nil {
				if derr := h.Netlink().LinkSetDown(link); derr != nil {
					c.Log.Errorf("rollback: set %s down: %v", name, derr)
				}
			}
		}()
	}

	if cfg.RunARPing && cfg.Is4() && announces(link) {
		if err := a.duplicateCheck(ctx, c, h, cfg, name); err != nil {
			return err
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
	// The address was absent: whatever of it exists after a failure is ours.
	defer func() {
		if err != nil {
			if derr := h.AddrDel(link, pfx); derr != nil && !errors.Is(derr, netif.ErrAddrNotFound) {
				c.Log.Errorf("rollback: remove %s from %s: %v", pfx, name, derr)
			}
			_ = c.State.Remove(statePath(c, cfg.IP, ""))
		}
	}()
	if err := h.AddrReplace(link, pfx, opts); err != nil {
		return kernelErr(err, fmt.Sprintf("add %s to %s", pfx, name))
	}
	c.Log.Infof("added %s to %s", pfx, name)

	if cfg.IP.Is6() && !cfg.NoDAD {
		// DAD runs only once the link has carrier.
		if _, err := waitUp(ctx, h, name, cfg.CarrierTimeout); err != nil {
			return err
		}
		if err := h.WaitDAD(ctx, link, cfg.IP); err != nil {
			if errors.Is(err, netif.ErrDADFailed) {
				return ocf.Errorf(ocf.ErrGeneric, "%s failed duplicate address detection on %s: another host has it", cfg.IP, name)
			}
			return ocf.Wrap(ocf.ErrGeneric, err, "duplicate address detection")
		}
	}
	if cfg.ARPCount == 0 || !announces(link) {
		return save(c, cfg, name, prefix, label)
	}
	up := link // as read before the address went on: fresh enough when it was up
	if !netif.IsUp(link) {
		if up, err = waitUp(ctx, h, name, cfg.CarrierTimeout); err != nil {
			return err
		}
	}
	return announceStart(ctx, c, cfg, up, func() error { return save(c, cfg, name, prefix, label) })
}

// adopt handles a start that finds the address configured already: success
// when it is where the parameters (or the last start) put it, with their
// prefix, and usable.
func (Agent) adopt(ctx context.Context, c *ocf.Call, h *netif.Handle, cfg *Config, link, cur netlink.Link, addr *netlink.Addr) error {
	name := cur.Attrs().Name
	var rec record
	hasRec := c.State.Load(statePath(c, cfg.IP, ""), &rec) == nil
	switch {
	case link != nil && cur.Attrs().Index != link.Attrs().Index:
		return ocf.Errorf(ocf.ErrGeneric, "%s is already configured on %s, not on %s: remove it first", cfg.IP, name, cfg.NIC)
	case link == nil && hasRec && rec.NIC != name:
		return ocf.Errorf(ocf.ErrGeneric, "%s is already configured on %s, not on %s where it was started: remove it first", cfg.IP, name, rec.NIC)
	}
	ones, _ := addr.Mask.Size()
	want := cfg.Prefix
	if want < 0 && hasRec && rec.NIC == name {
		want = rec.Prefix
	}
	if want >= 0 && ones != want {
		return ocf.Errorf(ocf.ErrGeneric, "%s is already on %s with prefix /%d, not /%d: remove it first", cfg.IP, name, ones, want)
	}
	if cfg.Label != "" && addr.Label != name+":"+cfg.Label {
		return ocf.Errorf(ocf.ErrGeneric, "%s is already on %s with label %q, not %s:%s: remove it first", cfg.IP, name, addr.Label, name, cfg.Label)
	}
	if addr.Flags&unix.IFA_F_DADFAILED != 0 {
		pfx := netip.PrefixFrom(cfg.IP, ones)
		if err := h.AddrDel(cur, pfx); err != nil && !errors.Is(err, netif.ErrAddrNotFound) {
			c.Log.Errorf("remove %s (dadfailed) from %s: %v", pfx, name, err)
		}
		return ocf.Errorf(ocf.ErrGeneric, "%s failed duplicate address detection on %s: another host has it", cfg.IP, name)
	}
	if addr.Flags&unix.IFA_F_TENTATIVE != 0 {
		if err := h.WaitDAD(ctx, cur, cfg.IP); err != nil {
			if errors.Is(err, netif.ErrDADFailed) {
				return ocf.Errorf(ocf.ErrGeneric, "%s failed duplicate address detection on %s: another host has it", cfg.IP, name)
			}
			return ocf.Wrap(ocf.ErrGeneric, err, "duplicate address detection")
		}
	}
	c.Log.Infof("%s/%d is already on %s", cfg.IP, ones, name)
	return save(c, cfg, name, ones, addr.Label)
}

// duplicateCheck is run_arping: an RFC 5227 probe for the address before
// it is added; another owner fails the start.
func (Agent) duplicateCheck(ctx context.Context, c *ocf.Call, h *netif.Handle, cfg *Config, name string) error {
	if _, err := waitUp(ctx, h, name, cfg.CarrierTimeout); err != nil {
		return err
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return kernelErr(err, "interface "+name)
	}
	owner, found, err := garp.Probe(ctx, ifi, cfg.IP, probeTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return ocf.Wrap(ocf.ErrGeneric, err, "duplicate address probe")
		}
		return kernelErr(err, "duplicate address probe")
	}
	if found {
		return ocf.Errorf(ocf.ErrGeneric, "%s is in use by %s on %s (run_arping): refusing to take it over", cfg.IP, owner, name)
	}
	c.Log.Debugf("run_arping: no other host answers for %s on %s", cfg.IP, name)
	return nil
}

// waitUp waits, within ctx and at most limit, until link name is up with
// carrier, and returns it as then read.
func waitUp(ctx context.Context, h *netif.Handle, name string, limit time.Duration) (netlink.Link, error) {
	if l, err := h.LinkByName(name); err == nil && netif.IsUp(l) {
		return l, nil
	}
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	l, err := h.WaitOperUp(wctx, name)
	if err != nil {
		// Fail fast (carrier_timeout, not the whole start timeout): a node
		// whose link is dead should hand the address to another node.
		return nil, ocf.Errorf(ocf.ErrGeneric, "%s has no carrier (no link or active slave) after %s", name, limit)
	}
	return l, nil
}

// announces reports whether addresses on link are announced: only
// Ethernet-like links (a 6-byte MAC) that are not loopback.
func announces(link netlink.Link) bool {
	a := link.Attrs()
	return a.Flags&net.FlagLoopback == 0 && len(a.HardwareAddr) == 6
}

func save(c *ocf.Call, cfg *Config, nic string, prefix int, label string) error {
	rec := record{IP: cfg.IP.String(), NIC: nic, Prefix: prefix, Label: label}
	if err := c.State.Save(statePath(c, cfg.IP, ""), rec); err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "save state")
	}
	return nil
}

// Stop removes the address wherever it is, stops a background announcer
// and removes the state start left. It succeeds when the address or its
// interface is already gone.
func (Agent) Stop(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		c.Log.Warnf("stop: %v: no address of ours can be configured", err)
		return nil
	}
	lock, err := c.State.Lock(ctx, "vip", cfg.IP.String())
	if err != nil {
		return kernelErr(err, "stop")
	}
	defer lock.Unlock()
	killBackground(c, cfg.IP)
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()

	var lookIn netlink.Link
	if cfg.IP.Is6() && cfg.IP.IsLinkLocalUnicast() {
		l, err := h.LinkByName(cfg.NIC)
		switch {
		case errors.Is(err, netif.ErrLinkNotFound):
			c.Log.Infof("%s is gone: %s is not configured", cfg.NIC, cfg.IP)
			return cleanState(c, cfg)
		case err != nil:
			return kernelErr(err, "look up nic "+cfg.NIC)
		}
		lookIn = l
	}
	// The same address may sit on several links; remove it everywhere.
	for range 8 {
		link, addr, err := h.FindAddrOn(lookIn, cfg.IP)
		if errors.Is(err, netif.ErrAddrNotFound) {
			break
		}
		if err != nil {
			return kernelErr(err, "look for "+cfg.IP.String())
		}
		ones, _ := addr.Mask.Size()
		pfx := netip.PrefixFrom(cfg.IP, ones)
		if err := h.AddrDel(link, pfx); err != nil && !errors.Is(err, netif.ErrAddrNotFound) {
			return kernelErr(err, fmt.Sprintf("remove %s from %s", pfx, link.Attrs().Name))
		}
		c.Log.Infof("removed %s from %s", pfx, link.Attrs().Name)
	}
	if _, _, err := h.FindAddrOn(lookIn, cfg.IP); !errors.Is(err, netif.ErrAddrNotFound) {
		return ocf.Errorf(ocf.ErrGeneric, "%s is still configured after removing it", cfg.IP)
	}
	if cfg.FlushRoutes {
		if err := netif.FlushRouteCache(cfg.IP); err != nil {
			c.Log.Warnf("flush route cache: %v", err)
		}
	}
	return cleanState(c, cfg)
}

func cleanState(c *ocf.Call, cfg *Config) error {
	relayErrors(c, cfg.IP, true)
	return c.State.Remove(statePath(c, cfg.IP, ""))
}

// Monitor reports whether the address is on the right interface with the
// right prefix and that interface is up. A recurring monitor also relays
// the errors of the background announcer, re-announces the address
// (arp_count_refresh) and at OCF_CHECK_LEVEL 10 checks that no other host
// answers for it.
func (Agent) Monitor(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	if !c.Probe {
		relayErrors(c, cfg.IP, false)
	}
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()

	var want netlink.Link // the nic parameter, resolved
	if cfg.NIC != "" {
		l, err := h.LinkByName(cfg.NIC)
		switch {
		case errors.Is(err, netif.ErrLinkNotFound):
			return ocf.Errorf(ocf.ErrNotRunning, "nic %s does not exist on this node", cfg.NIC)
		case err != nil:
			return kernelErr(err, "look up nic "+cfg.NIC)
		}
		want = l
	}
	// With nic given only its addresses matter: elsewhere is not running.
	link, addr, err := h.FindAddrOn(want, cfg.IP)
	if errors.Is(err, netif.ErrAddrNotFound) {
		if want != nil {
			if other, _, err := h.FindAddr(cfg.IP); err == nil && !(cfg.IP.Is6() && cfg.IP.IsLinkLocalUnicast()) {
				return ocf.Errorf(ocf.ErrNotRunning, "%s is on %s, not on %s", cfg.IP, other.Attrs().Name, cfg.NIC)
			}
		}
		return ocf.ErrNotRunning
	}
	if err != nil {
		return kernelErr(err, "look for "+cfg.IP.String())
	}
	name := link.Attrs().Name
	// The record tells what start detected; with nic and cidr_netmask
	// both given there is nothing to read.
	var rec record
	hasRec := false
	if want == nil || cfg.Prefix < 0 {
		hasRec = c.State.Load(statePath(c, cfg.IP, ""), &rec) == nil
	}
	if want == nil && hasRec && rec.NIC != name {
		return ocf.Errorf(ocf.ErrNotRunning, "%s is on %s, not on %s where it was started", cfg.IP, name, rec.NIC)
	}
	wantPrefix := cfg.Prefix
	if wantPrefix < 0 && hasRec {
		wantPrefix = rec.Prefix
	}
	if ones, _ := addr.Mask.Size(); wantPrefix >= 0 && ones != wantPrefix {
		return ocf.Errorf(ocf.ErrNotRunning, "%s has prefix /%d, not /%d", cfg.IP, ones, wantPrefix)
	}
	if addr.Flags&unix.IFA_F_DADFAILED != 0 {
		return ocf.Errorf(ocf.ErrGeneric, "%s on %s failed duplicate address detection: another host has it", cfg.IP, name)
	}
	if cfg.CheckLinkStatus && !netif.IsUp(link) {
		return ocf.Errorf(ocf.ErrNotRunning, "%s is on %s, but %s is down or has no carrier", cfg.IP, name, name)
	}
	if c.Probe {
		return nil
	}
	if !announces(link) || (c.CheckLevel < 10 && cfg.ARPCountRefresh == 0) {
		return nil
	}
	ifi, err := net.InterfaceByIndex(link.Attrs().Index)
	if err != nil {
		return kernelErr(err, "interface "+name)
	}
	if c.CheckLevel >= 10 {
		owner, found, err := garp.Probe(ctx, ifi, cfg.IP, monitorProbeTimeout)
		if err != nil {
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
		} else {
			c.Log.Debugf("re-announced %s on %s (%d rounds)", cfg.IP, name, cfg.ARPCountRefresh)
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
	c.Log.Infof("reloaded: arp_count=%s arp_interval=%s arp_count_refresh=%s arp_bg=%s run_arping=%s check_link_status=%s",
		c.Params.String("arp_count"), c.Params.Duration("arp_interval"), c.Params.String("arp_count_refresh"),
		c.Params.String("arp_bg"), c.Params.String("run_arping"), c.Params.String("check_link_status"))
	return nil
}
