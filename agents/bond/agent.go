// Package bond is the policy of the ocf:hanet:bond resource agent: what
// start, stop, monitor, validate-all and reload-agent mean for a Linux bond,
// and which failure is which OCF exit code. Kernel work is done by pkg/bond
// (imported as bondlink) and pkg/netif.
//
// Ownership: start writes a state file (HA_RSCTMP/hanet-bond-<name>) before
// it touches anything, holding the resource instance and each port's
// administrative state, MTU, MAC and master as they were, so that stop, even
// after a start killed half-way, deletes only our bond and puts the ports
// back exactly. A bond of that name without our state file is foreign:
// with adopt=false (the default) probes and monitors say 7 and start
// refuses with 1; with adopt=true a foreign bond whose mode and slaves match
// is treated as ours (probe 0, start takes it over, stop deletes it) and
// any other is reported as not running and refused by start. A state file
// without a bond is "not running" (7) and is kept for stop, which restores
// the ports and removes it. A second file (.failures) keeps the ports' link
// failure counts seen by the last recurring monitor, so a port that failed
// and came back between two monitors is still reported once (degraded).
package bond

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	bondlink "github.com/hanet/hanet/pkg/bond"
	"github.com/hanet/hanet/pkg/netif"
	"github.com/hanet/hanet/pkg/ocf"
)

// Agent is the ocf:hanet:bond resource agent. It holds no state: everything
// an action needs comes from its Call, the kernel and the state directory.
type Agent struct{}

var (
	_ ocf.Agent    = Agent{}
	_ ocf.Reloader = Agent{}
)

// Spec returns the agent's parameter table and actions.
func (Agent) Spec() *ocf.Spec { return &Spec }

// record is the state file: what start found and did.
type record struct {
	Instance string `json:"instance"`
	Bond     string `json:"bond"`
	Index    int    `json:"index,omitempty"` // ifindex of the bond we created
	Created  bool   `json:"created"`         // false: adopted
	Mode     string `json:"mode"`
	// Slaves holds each port's state before start touched it, in the
	// configured order (none for an adopted bond: their state before it
	// is unknown).
	Slaves []bondlink.LinkState `json:"slaves,omitempty"`
	// Options names the options start or reload-agent set, so a later
	// reload-agent resets the ones removed from the configuration.
	Options []string `json:"options,omitempty"`
}

func (r *record) slave(name string) (bondlink.LinkState, bool) {
	for _, s := range r.Slaves {
		if s.Name == name {
			return s, true
		}
	}
	return bondlink.LinkState{}, false
}

func statePath(c *ocf.Call, name string) string { return c.State.Path("bond", name, "") }

// load reads our record for bond name. A record of another resource
// instance is reported as foreign.
func load(c *ocf.Call, name string) (rec record, ours, foreign bool, err error) {
	err = c.State.Load(statePath(c, name), &rec)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return rec, false, false, nil
	case err != nil:
		return rec, false, false, ocf.Wrap(ocf.ErrGeneric, err, "state file")
	case rec.Instance != "" && rec.Instance != c.Instance:
		return rec, false, true, nil
	}
	return rec, true, false, nil
}

func save(c *ocf.Call, rec *record) error {
	return ocf.Wrap(ocf.ErrGeneric, c.State.Save(statePath(c, rec.Bond), rec), "save state")
}

func config(c *ocf.Call) (*Config, error) { return parseConfig(c.Params, c.Log.Warnf) }

func open() (*bondlink.Handle, error) {
	h, err := bondlink.Open()
	if err != nil {
		return nil, kernelErr(err, "open netlink")
	}
	return h, nil
}

// kernelErr maps a kernel failure to an exit code: missing privilege is 4,
// no bonding driver 5, anything else 1. The bonding driver also answers
// EPERM for refused options, so EPERM means privilege only when not root.
func kernelErr(err error, what string) error {
	if what != "" {
		err = fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case errors.Is(err, os.ErrPermission) && os.Geteuid() != 0:
		return ocf.Errorf(ocf.ErrPerm, "%w (needs root: CAP_NET_ADMIN)", err)
	case errors.Is(err, bondlink.ErrNoBonding):
		return ocf.Errorf(ocf.ErrInstalled, "%w (load the bonding module)", err)
	}
	return ocf.Wrap(ocf.ErrGeneric, err, "")
}

// mismatch says why the existing bond st is not the configured one (mode or
// set of ports), or "".
func mismatch(st *bondlink.Status, cfg *Config) string {
	if st.Options.Mode != cfg.Options.Mode {
		return fmt.Sprintf("mode is %s, configured %s", st.Options.Mode, cfg.Options.Mode)
	}
	var ports []string
	for _, s := range st.Slaves {
		ports = append(ports, s.Name)
	}
	want := slices.Clone(cfg.Slaves)
	slices.Sort(ports)
	slices.Sort(want)
	if !slices.Equal(ports, want) {
		return fmt.Sprintf("slaves are [%s], configured [%s]", strings.Join(ports, " "), strings.Join(want, " "))
	}
	return ""
}

// checkSlaves makes sure every port exists here and is free (or already a
// port of bond index own): ErrArgs (2) otherwise, as another node may have
// them.
func checkSlaves(h *bondlink.Handle, cfg *Config, own int) error {
	for _, s := range cfg.Slaves {
		l, err := h.LinkByName(s)
		if errors.Is(err, netif.ErrLinkNotFound) {
			return ocf.Errorf(ocf.ErrArgs, "slave %s does not exist on this node", s)
		}
		if err != nil {
			return kernelErr(err, "look up slave "+s)
		}
		if m := l.Attrs().MasterIndex; m != 0 && m != own {
			master := fmt.Sprintf("#%d", m)
			if ml, err := h.LinkByIndex(m); err == nil {
				master = ml.Attrs().Name
			}
			return ocf.Errorf(ocf.ErrArgs, "slave %s is already a port of %s on this node", s, master)
		}
	}
	return nil
}

// Validate checks the parameters; at OCF_CHECK_LEVEL 10 it also checks that
// this node has the bonding driver (5) and free ports of those names (2).
func (Agent) Validate(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil || c.CheckLevel < 10 {
		return err
	}
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()
	if !h.Supported() && !bondingModuleInstalled() {
		return ocf.Errorf(ocf.ErrInstalled, "no bonding driver on this node (no bonding_masters, no bonding.ko)")
	}
	own := 0
	if l, err := h.LinkByName(cfg.Name); err == nil {
		if l.Type() != "bond" {
			return ocf.Errorf(ocf.ErrArgs, "name %s is taken by a %s interface on this node", cfg.Name, l.Type())
		}
		own = l.Attrs().Index
	}
	return checkSlaves(h, cfg, own)
}

// bondingModuleInstalled reports whether the running kernel ships bonding.ko
// (loaded on demand by the first bond).
func bondingModuleInstalled() bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var rel []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	m, _ := filepath.Glob(filepath.Join("/lib/modules", string(rel), "kernel/drivers/net/bonding/bonding.ko*"))
	return len(m) > 0
}

// Start creates the bond, or takes over an existing one (ours, or a
// matching one with adopt=true), enslaves the ports in order, sets it up
// and waits for carrier and, in 802.3ad, for an aggregate with a partner.
// It is idempotent and leaves the host as it was when it fails.
func (a Agent) Start(ctx context.Context, c *ocf.Call) (err error) {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	lock, err := c.State.Lock(ctx, "bond", cfg.Name)
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "start")
	}
	defer lock.Unlock()
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()

	rec, ours, foreign, err := load(c, cfg.Name)
	if err != nil {
		return err
	}
	if foreign {
		return ocf.Errorf(ocf.ErrGeneric, "bond %s is managed by resource %s on this node", cfg.Name, rec.Instance)
	}
	existing, err := h.LinkByName(cfg.Name)
	switch {
	case err == nil && existing.Type() != "bond":
		return ocf.Errorf(ocf.ErrArgs, "name %s is taken by a %s interface on this node", cfg.Name, existing.Type())
	case err == nil:
		own := existing.Attrs().Index
		if !ours {
			st, err := h.Status(cfg.Name)
			if err != nil {
				return kernelErr(err, "read bond "+cfg.Name)
			}
			if !cfg.Adopt {
				return ocf.Errorf(ocf.ErrGeneric, "bond %s already exists and is not managed by this resource (adopt=false)", cfg.Name)
			}
			if why := mismatch(st, cfg); why != "" {
				return ocf.Errorf(ocf.ErrGeneric, "cannot adopt existing bond %s: %s", cfg.Name, why)
			}
			if err := checkSlaves(h, cfg, own); err != nil {
				return err
			}
			rec = record{Instance: c.Instance, Bond: cfg.Name, Mode: cfg.Options.Mode.String(), Slaves: adoptedPorts(st)}
			if err := a.apply(c, h, cfg, &rec, st, true); err != nil {
				return err
			}
			c.Log.Infof("adopted existing bond %s", cfg.Name)
		} else if err := checkSlaves(h, cfg, own); err != nil {
			return err
		}
		return a.converge(ctx, c, h, cfg, &rec, false)
	case !errors.Is(err, netif.ErrLinkNotFound):
		return kernelErr(err, "look up "+cfg.Name)
	}

	// The bond is absent: create it.
	if err := checkSlaves(h, cfg, 0); err != nil {
		return err
	}
	// Record the ports before touching anything, so a stop after a start
	// killed half-way can put them back. A record left by an earlier run
	// (its bond vanished) already holds their state from before that run.
	if !ours {
		rec = record{}
	}
	rec.Instance, rec.Bond, rec.Mode, rec.Created, rec.Index = c.Instance, cfg.Name, cfg.Options.Mode.String(), true, 0
	if err := a.capture(h, cfg, &rec); err != nil {
		return err
	}
	rec.Options = cfg.Options.SetNames()
	if err := save(c, &rec); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			a.rollback(c, h, cfg, &rec)
		}
	}()
	b, err := h.Create(cfg.Name, &cfg.Options)
	if err != nil {
		return kernelErr(err, "")
	}
	rec.Index = b.Attrs().Index
	if err := save(c, &rec); err != nil {
		return err
	}
	c.Log.Infof("created bond %s (%s)", cfg.Name, cfg.Options.String())
	return a.converge(ctx, c, h, cfg, &rec, true)
}

// adoptedPorts is what stop gives back to the ports of an adopted bond:
// their administrative state (the kernel restores their MTU and MAC when
// it releases them; what they had before that bond is unknown).
func adoptedPorts(st *bondlink.Status) []bondlink.LinkState {
	var out []bondlink.LinkState
	for _, s := range st.Slaves {
		out = append(out, bondlink.LinkState{Name: s.Name, Index: s.Index, Up: s.AdminUp})
	}
	return out
}

// capture records the state of every configured port not yet in rec.
func (Agent) capture(h *bondlink.Handle, cfg *Config, rec *record) error {
	for _, s := range cfg.Slaves {
		if _, ok := rec.slave(s); ok {
			continue
		}
		st, err := h.Capture(s)
		if errors.Is(err, netif.ErrLinkNotFound) {
			return ocf.Errorf(ocf.ErrArgs, "slave %s does not exist on this node", s)
		}
		if err != nil {
			return kernelErr(err, "read slave "+s)
		}
		rec.Slaves = append(rec.Slaves, st)
	}
	return nil
}

// converge enslaves the missing ports, sets the bond up and waits until it
// carries traffic. A failure releases the ports it enslaved (created: the
// caller deletes the whole bond).
func (a Agent) converge(ctx context.Context, c *ocf.Call, h *bondlink.Handle, cfg *Config, rec *record, created bool) (err error) {
	var enslaved []string
	if !created {
		defer func() {
			if err != nil {
				for _, s := range enslaved {
					if rerr := h.Release(s); rerr != nil {
						c.Log.Errorf("rollback: %v", rerr)
					}
					if ls, ok := rec.slave(s); ok {
						if rerr := h.Restore(ls); rerr != nil {
							c.Log.Errorf("rollback: %v", rerr)
						}
					}
				}
			}
		}()
	}
	st, err := h.Status(cfg.Name)
	if err != nil {
		return kernelErr(err, "read bond "+cfg.Name)
	}
	if !created && rec.Created {
		// Our bond from an earlier start: enforce the configured options.
		if err := a.apply(c, h, cfg, rec, st, false); err != nil {
			return err
		}
	}
	for _, s := range cfg.Slaves {
		if st.Slave(s) != nil {
			continue
		}
		if rec.Created {
			if err := a.capture(h, &Config{Slaves: []string{s}}, rec); err != nil {
				return err
			}
			if err := save(c, rec); err != nil {
				return err
			}
		}
		if err := h.Enslave(cfg.Name, s); err != nil {
			switch {
			case errors.Is(err, bondlink.ErrInUse), errors.Is(err, netif.ErrLinkNotFound):
				return ocf.Wrap(ocf.ErrArgs, err, "")
			}
			return kernelErr(err, "")
		}
		enslaved = append(enslaved, s)
	}
	if err := h.Up(cfg.Name); err != nil {
		return kernelErr(err, "set "+cfg.Name+" up")
	}
	start := time.Now()
	lacp := cfg.Options.Mode == bondlink.LACP
	st, err = h.Wait(ctx, cfg.Name, func(st *bondlink.Status) (bool, error) {
		if !st.Carrier {
			return false, nil
		}
		return !lacp || st.AD.HasPartner() && len(st.Aggregated()) > 0, nil
	})
	if err != nil {
		if st == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			return kernelErr(err, "wait for "+cfg.Name)
		}
		waited := time.Since(start).Round(time.Millisecond)
		if !st.Carrier {
			return ocf.Errorf(ocf.ErrGeneric, "bond %s has no carrier after %s: %s", cfg.Name, waited, portsSummary(st, cfg))
		}
		return ocf.Errorf(ocf.ErrGeneric, "802.3ad: no LACP partner on any port of %s after %s (is the switch side in LACP mode?): %s",
			cfg.Name, waited, portsSummary(st, cfg))
	}
	// The bond carries traffic. Give the other ports the time they need
	// to join (updelay, ARP validation, LACP), without failing: a port
	// that stays down is monitor's "degraded", not a failed start.
	settle := time.Second
	if d := cfg.Options.UpDelay; d != nil {
		settle += time.Duration(*d) * time.Millisecond
	}
	if i := cfg.Options.ARPInterval; i != nil {
		settle += 3 * time.Duration(*i) * time.Millisecond
	}
	if lacp {
		settle += 3 * time.Second
	}
	sctx, cancel := context.WithTimeout(ctx, settle)
	defer cancel()
	if st2, err := h.Wait(sctx, cfg.Name, func(st *bondlink.Status) (bool, error) {
		up, _ := countUp(st, cfg)
		return up >= cfg.MinActive, nil
	}); err == nil {
		st = st2
	} else if st2 != nil {
		st = st2
		c.Log.Warnf("bond %s started with too few ports up: %s", cfg.Name, portsSummary(st, cfg))
	}
	c.Log.Infof("bond %s up in %s: %s", cfg.Name, time.Since(start).Round(time.Millisecond), portsSummary(st, cfg))
	failures(c, st) // the baseline for monitor
	return nil
}

// countUp counts the configured ports that carry traffic: enslaved with the
// link up and, in 802.3ad, in the active aggregator with a partner. down
// describes the others.
func countUp(st *bondlink.Status, cfg *Config) (up int, down []string) {
	lacp := cfg.Options.Mode == bondlink.LACP
	for _, name := range cfg.Slaves {
		s := st.Slave(name)
		if s != nil && s.Up() && (!lacp || st.AD != nil && s.Aggregated(st.AD.Aggregator)) {
			up++
		} else {
			down = append(down, name+" "+portState(st, name))
		}
	}
	return up, down
}

// apply sets the configured options that differ on the live bond st. An
// option that cannot change on a live bond is an error (1): the bond must be
// recreated. With save, rec is written with the options applied.
func (Agent) apply(c *ocf.Call, h *bondlink.Handle, cfg *Config, rec *record, st *bondlink.Status, saveRec bool) error {
	want := cfg.Options
	changes := bondlink.Diff(&st.Options, &want)
	send, fixed := bondlink.Changes(&st.Options, &want, changes)
	if len(fixed) > 0 {
		var why []string
		for _, ch := range changes {
			if !ch.Reloadable {
				why = append(why, ch.String())
			}
		}
		return ocf.Errorf(ocf.ErrGeneric, "bond %s: %s (cannot change on a live bond: stop it first)", cfg.Name, strings.Join(why, "; "))
	}
	if !send.Empty() {
		if err := h.Change(cfg.Name, send); err != nil {
			return kernelErr(err, "")
		}
		c.Log.Infof("bond %s: set %s", cfg.Name, send.String())
	}
	rec.Options = want.SetNames()
	if saveRec {
		return save(c, rec)
	}
	return nil
}

// rollback undoes a failed start that created the bond: delete it, put the
// ports back as recorded, remove the record.
func (Agent) rollback(c *ocf.Call, h *bondlink.Handle, cfg *Config, rec *record) {
	// Only the bond this start created (not one that appeared meanwhile).
	if l, err := h.LinkByName(cfg.Name); err == nil && rec.Index != 0 && l.Attrs().Index == rec.Index {
		if err := h.Delete(cfg.Name); err != nil && !errors.Is(err, netif.ErrLinkNotFound) {
			c.Log.Errorf("rollback: %v", err)
			return // keep the record: stop must finish the job
		}
	}
	ok := true
	for _, s := range rec.Slaves {
		if err := h.Restore(s); err != nil && !errors.Is(err, netif.ErrLinkNotFound) {
			c.Log.Errorf("rollback: %v", err)
			ok = false
		}
	}
	if ok {
		if err := c.State.Remove(statePath(c, cfg.Name)); err != nil {
			c.Log.Errorf("rollback: %v", err)
		}
	}
	c.Log.Infof("rolled back: bond %s deleted, slaves restored", cfg.Name)
}

// portsSummary describes each configured port for exit reasons and logs:
// "a0 up (active), a1 down (3 failures)".
func portsSummary(st *bondlink.Status, cfg *Config) string {
	var parts []string
	for _, name := range cfg.Slaves {
		parts = append(parts, name+" "+portState(st, name))
	}
	return strings.Join(parts, ", ")
}

func portState(st *bondlink.Status, name string) string {
	s := st.Slave(name)
	if s == nil {
		return "not enslaved"
	}
	var b strings.Builder
	b.WriteString(s.MII)
	if !s.Carrier {
		b.WriteString(" no carrier")
	}
	if st.Options.Mode == bondlink.LACP && s.Up() && st.AD != nil && !s.Aggregated(st.AD.Aggregator) {
		switch {
		case s.ActorState&bondlink.PortDefaulted != 0:
			b.WriteString(" no LACP partner")
		case s.ActorState&bondlink.PortExpired != 0:
			b.WriteString(" LACP partner silent")
		default:
			b.WriteString(" not aggregated")
		}
		fmt.Fprintf(&b, " (lacp %d/%d)", s.ActorState, s.PartnerState)
	}
	if st.ActiveSlave == name && st.Options.Mode.UsesPrimary() {
		b.WriteString(" active")
	}
	if s.LinkFailures > 0 {
		fmt.Fprintf(&b, " (%d failures)", s.LinkFailures)
	}
	return b.String()
}

// Stop releases the ports, deletes the bond and puts every port back as
// start found it. It succeeds when the bond is already gone, and leaves a
// bond that is not ours alone.
func (a Agent) Stop(ctx context.Context, c *ocf.Call) error {
	name := strings.TrimSpace(c.Params.String("name"))
	if err := netif.ValidName(name); err != nil {
		c.Log.Warnf("stop: name: %v: no bond of ours can exist", err)
		return nil
	}
	cfg, cfgErr := config(c)
	lock, err := c.State.Lock(ctx, "bond", name)
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "stop")
	}
	defer lock.Unlock()
	rec, ours, foreign, err := load(c, name)
	if err != nil {
		return err
	}
	if foreign {
		c.Log.Warnf("bond %s belongs to resource %s: left alone", name, rec.Instance)
		return nil
	}
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()

	st, err := h.Status(name)
	switch {
	case errors.Is(err, netif.ErrLinkNotFound):
		c.Log.Infof("bond %s is not there", name)
	case errors.Is(err, bondlink.ErrNotBond):
		c.Log.Warnf("%v: left alone", err)
	case err != nil:
		return kernelErr(err, "read bond "+name)
	default:
		adopted := !ours && cfgErr == nil && cfg.Adopt && mismatch(st, cfg) == ""
		if !ours && !adopted {
			c.Log.Infof("bond %s is not managed by this resource: left alone", name)
			return nil
		}
		if adopted { // found by a probe, never started: stop as if adopted
			rec, ours = record{Bond: name, Slaves: adoptedPorts(st)}, true
		}
		for _, s := range st.Slaves {
			if err := h.Release(s.Name); err != nil && !errors.Is(err, netif.ErrLinkNotFound) {
				c.Log.Warnf("%v", err)
			}
		}
		if err := h.Delete(name); err != nil && !errors.Is(err, netif.ErrLinkNotFound) {
			return kernelErr(err, "")
		}
		c.Log.Infof("deleted bond %s", name)
	}
	if !ours {
		return nil
	}
	var errs []error
	for _, s := range rec.Slaves {
		cur, err := h.Capture(s.Name)
		if errors.Is(err, netif.ErrLinkNotFound) {
			c.Log.Warnf("slave %s is gone: not restored", s.Name)
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cur.Master != "" && cur.Master != s.Master {
			c.Log.Warnf("slave %s is now a port of %s: not restored", s.Name, cur.Master)
			continue
		}
		if err := h.Restore(s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "")
	}
	_ = c.State.Remove(failuresPath(c, name))
	return c.State.Remove(statePath(c, name))
}

// Monitor reports 7 when the bond is absent or not ours, 1 when it is down
// or has no carrier, 190 when it carries traffic with too few ports up (or,
// in 802.3ad, without a LACP partner) and 0 otherwise. At OCF_CHECK_LEVEL 10
// options that drifted from the configuration are degraded too.
func (Agent) Monitor(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	_, ours, foreign, err := load(c, cfg.Name)
	if err != nil {
		return err
	}
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()
	st, err := h.Status(cfg.Name)
	switch {
	case errors.Is(err, netif.ErrLinkNotFound):
		if ours {
			return ocf.Errorf(ocf.ErrNotRunning, "bond %s is gone", cfg.Name)
		}
		return ocf.ErrNotRunning
	case errors.Is(err, bondlink.ErrNotBond):
		if ours {
			return ocf.Errorf(ocf.ErrGeneric, "%v (expected our bond)", err)
		}
		return ocf.ErrNotRunning
	case err != nil:
		return kernelErr(err, "read bond "+cfg.Name)
	}
	why := mismatch(st, cfg)
	switch {
	case foreign:
		return ocf.Errorf(ocf.ErrNotRunning, "bond %s belongs to another resource", cfg.Name)
	case !ours && !cfg.Adopt:
		return ocf.Errorf(ocf.ErrNotRunning, "bond %s exists but is not managed by this resource (adopt=false)", cfg.Name)
	case !ours && why != "":
		return ocf.Errorf(ocf.ErrNotRunning, "bond %s exists but cannot be adopted: %s", cfg.Name, why)
	case st.Options.Mode != cfg.Options.Mode:
		return ocf.Errorf(ocf.ErrGeneric, "bond %s changed under us: %s", cfg.Name, why)
	}
	err = health(st, cfg, c.CheckLevel)
	if c.Probe || !ours {
		return err
	}
	// Ports that failed since the previous monitor, even if they are back
	// (a flapping link; a one-way path failure the ARP monitor saw before
	// the port, as a backup, passed validation again).
	flaps := failures(c, st)
	switch {
	case len(flaps) == 0 || ocf.CodeOf(err) == ocf.ErrGeneric:
		return err
	case err == nil:
		return ocf.Errorf(ocf.Degraded, "bond %s degraded: %s", cfg.Name, strings.Join(flaps, ", "))
	}
	return ocf.Errorf(ocf.Degraded, "%v; %s", err, strings.Join(flaps, ", "))
}

func failuresPath(c *ocf.Call, name string) string { return c.State.Path("bond", name, ".failures") }

// failures compares the ports' link failure counts with those the previous
// recurring monitor (or start) saw, saves the new ones and describes the
// increases: "a0 failed 1x since the last check".
func failures(c *ocf.Call, st *bondlink.Status) []string {
	var prev map[string]uint32
	_ = c.State.Load(failuresPath(c, st.Name), &prev)
	cur := map[string]uint32{}
	var out []string
	for _, s := range st.Slaves {
		cur[s.Name] = s.LinkFailures
		if p, ok := prev[s.Name]; ok && s.LinkFailures > p {
			out = append(out, fmt.Sprintf("%s failed %dx since the last check", s.Name, s.LinkFailures-p))
		}
	}
	if !maps.Equal(prev, cur) {
		if err := c.State.Save(failuresPath(c, st.Name), cur); err != nil {
			c.Log.Warnf("%v", err)
		}
	}
	return out
}

// health judges a bond that is ours.
func health(st *bondlink.Status, cfg *Config, level int) error {
	if !st.AdminUp {
		return ocf.Errorf(ocf.ErrGeneric, "bond %s is administratively down", cfg.Name)
	}
	if !st.Carrier {
		return ocf.Errorf(ocf.ErrGeneric, "bond %s has no carrier: %s", cfg.Name, portsSummary(st, cfg))
	}
	lacp := cfg.Options.Mode == bondlink.LACP
	up, down := countUp(st, cfg)
	var problems []string
	if lacp && (st.AD == nil || !st.AD.HasPartner() || len(st.Aggregated()) == 0) {
		problems = append(problems, "no LACP partner")
	}
	if up < cfg.MinActive {
		problems = append(problems, fmt.Sprintf("%d of %d slaves up (%s)", up, len(cfg.Slaves), strings.Join(down, ", ")))
	}
	var extra []string
	for _, s := range st.Slaves {
		if !slices.Contains(cfg.Slaves, s.Name) {
			extra = append(extra, s.Name)
		}
	}
	if len(extra) > 0 {
		problems = append(problems, "foreign ports "+strings.Join(extra, " "))
	}
	if level >= 10 {
		for _, ch := range bondlink.Diff(&st.Options, &cfg.Options) {
			problems = append(problems, "drift: "+ch.String())
		}
	}
	if len(problems) > 0 {
		return ocf.Errorf(ocf.Degraded, "bond %s degraded: %s", cfg.Name, strings.Join(problems, "; "))
	}
	return nil
}

// Reload applies the configured options that the kernel changes on a live
// bond (miimon, delays, ARP monitor, primary, min_links, peer
// notifications, MTU, …) in one netlink request: no port is released and
// the link never drops. Options removed from the configuration since start
// go back to the kernel defaults. A bond that is not running is left for
// the next start.
func (a Agent) Reload(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	lock, err := c.State.Lock(ctx, "bond", cfg.Name)
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "reload")
	}
	defer lock.Unlock()
	rec, ours, _, err := load(c, cfg.Name)
	if err != nil {
		return err
	}
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()
	st, err := h.Status(cfg.Name)
	if errors.Is(err, netif.ErrLinkNotFound) || errors.Is(err, bondlink.ErrNotBond) {
		c.Log.Infof("bond %s is not running: the new parameters apply at the next start", cfg.Name)
		return nil
	}
	if err != nil {
		return kernelErr(err, "read bond "+cfg.Name)
	}
	if !ours && !(cfg.Adopt && mismatch(st, cfg) == "") {
		c.Log.Infof("bond %s is not managed by this resource: nothing to reload", cfg.Name)
		return nil
	}
	want := cfg.Options
	if reset := want.Fill(bondlink.Defaults(want.Mode), rec.Options); len(reset) > 0 {
		c.Log.Infof("bond %s: back to kernel defaults: %s", cfg.Name, strings.Join(reset, " "))
	}
	changes := bondlink.Diff(&st.Options, &want)
	send, fixed := bondlink.Changes(&st.Options, &want, changes)
	if len(fixed) > 0 {
		c.Log.Warnf("bond %s: %s cannot change on a live bond: restart the resource to apply", cfg.Name, strings.Join(fixed, ", "))
	}
	if !send.Empty() {
		if err := h.Change(cfg.Name, send); err != nil {
			return kernelErr(err, "reload")
		}
		c.Log.Infof("bond %s: set %s", cfg.Name, send.String())
	}
	if ours {
		rec.Options = cfg.Options.SetNames()
		return save(c, &rec)
	}
	return nil
}
