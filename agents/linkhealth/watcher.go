package linkhealth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/pkg/garp"
	"github.com/hanet/hanet/pkg/netif"
	"github.com/hanet/hanet/pkg/ocf"
)

// The rate limit of each attribute's updates (Coalescer): three at once,
// then one per 100 ms, so a link flapping faster than its hysteresis allows
// for (recover_count=1) makes at most ten updates a second.
const (
	minUpdateGap = 100 * time.Millisecond
	updateBurst  = 3
)

// A Status is what the watcher reports in the state directory: start waits
// for Started (or Fatal), monitor reads Short and the link details,
// reload-agent waits for Generation.
type Status struct {
	Pid        int          `json:"pid"`
	Generation int          `json:"generation"`
	Started    bool         `json:"started"`               // the first value is published
	Fatal      string       `json:"fatal,omitempty"`       // why the watcher gave up
	FatalCode  int          `json:"fatal_code,omitempty"`  // the OCF code for Fatal
	Value      int          `json:"value"`                 // the value wanted (published unless AttrdError)
	Published  string       `json:"published,omitempty"`   // the value attrd accepted last
	Healthy    int          `json:"healthy"`               // healthy links
	Total      int          `json:"total"`                 // configured links
	MinHealthy int          `json:"min_healthy"`           // from the configuration applied
	Short      bool         `json:"short"`                 // Healthy < MinHealthy
	Color      string       `json:"color"`                 // the health colour
	HealthName string       `json:"health_name,omitempty"` // #health-… attribute, when published
	AttrdError string       `json:"attrd_error,omitempty"` // the last attrd_updater failure, until one succeeds
	Links      []LinkReport `json:"links"`
	Updated    time.Time    `json:"updated"`
}

// A LinkReport is one link's health in the Status.
type LinkReport struct {
	Name    string `json:"name"`
	Healthy bool   `json:"healthy"`
	Partial bool   `json:"partial,omitempty"` // a bond missing slaves
	Detail  string `json:"detail"`
}

// Problems lists the unhealthy or impaired links for messages:
// "eth1: down or no carrier".
func (s *Status) Problems() string {
	var p []string
	for _, l := range s.Links {
		if !l.Healthy || l.Partial {
			p = append(p, l.Name+": "+l.Detail)
		}
	}
	return strings.Join(p, "; ")
}

// kernel is what the watcher asks the kernel about links; tests fake it.
type kernel interface {
	LinkByName(name string) (netlink.Link, error)
	Links() ([]netlink.Link, error)
	// BondSlaves returns the slave names the bonding driver lists in
	// /sys/class/net/<bond>/bonding/slaves.
	BondSlaves(bond string) ([]string, error)
}

// hostKernel is the kernel seen through netlink and sysfs.
type hostKernel struct{ *netif.Handle }

// BondSlaves reads /sys/class/net/<bond>/bonding/slaves.
func (hostKernel) BondSlaves(bond string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join("/sys/class/net", bond, "bonding", "slaves"))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

// observe reads interface name's state from the kernel. An absent link is
// a View with Exists false, not an error. A bond's slaves are the links
// whose master is the bond (netlink), in the order the bonding driver lists
// them in sysfs; a name in sysfs that is not enslaved to this bond here is
// ignored, so a sysfs mounted for another namespace cannot mislead.
func observe(k kernel, name string) (View, error) {
	l, err := k.LinkByName(name)
	if errors.Is(err, netif.ErrLinkNotFound) {
		return View{}, nil
	}
	if err != nil {
		return View{}, err
	}
	a := l.Attrs()
	v := View{Exists: true, Index: a.Index, Up: linkUp(l), Bond: l.Type() == "bond"}
	if !v.Bond {
		return v, nil
	}
	links, err := k.Links()
	if err != nil {
		return v, err
	}
	var slaves []netlink.Link
	for _, s := range links {
		if sa := s.Attrs(); sa.MasterIndex == a.Index && sa.Index != a.Index {
			slaves = append(slaves, s)
		}
	}
	order := map[string]int{}
	if names, err := k.BondSlaves(name); err == nil {
		for i, n := range names {
			order[n] = i + 1
		}
	}
	slices.SortStableFunc(slaves, func(x, y netlink.Link) int {
		ox, oy := order[x.Attrs().Name], order[y.Attrs().Name]
		switch {
		case ox != 0 && oy != 0:
			return ox - oy
		case ox != 0:
			return -1
		case oy != 0:
			return 1
		}
		return x.Attrs().Index - y.Attrs().Index
	})
	for _, s := range slaves {
		v.Slaves = append(v.Slaves, SlaveView{Name: s.Attrs().Name, Index: s.Attrs().Index, Up: slaveUp(s)})
	}
	return v, nil
}

// linkUp reports whether a link can carry traffic: administratively and
// operationally up (netif.IsUp) and with carrier. The carrier flag is
// read live by the kernel on every dump, while the operational state
// follows it through linkwatch, which batches non-urgent changes up to a
// second, so a link losing carrier shows here before its state says so.
func linkUp(l netlink.Link) bool { return netif.IsUp(l) && netif.HasCarrier(l) }

// slaveUp reports whether a bond slave carries traffic: up with carrier,
// and up in the bonding driver's view (MII status, which honours updelay and
// downdelay) when netlink reports it.
func slaveUp(l netlink.Link) bool {
	if !linkUp(l) {
		return false
	}
	if bs, ok := l.Attrs().Slave.(*netlink.BondSlave); ok {
		return bs.MiiStatus == netlink.BondLinkUp
	}
	return true
}

// eventUp is linkUp computed from an event's own fields: the link's state
// when the event was sent, which a later re-read may have lost.
func eventUp(ev netif.LinkEvent) bool {
	if ev.Flags&net.FlagUp == 0 || !ev.Carrier {
		return false
	}
	return ev.OperState == netlink.OperUp || ev.OperState == netlink.OperUnknown
}

// sourceFor picks the source address of a probe for target among a link's
// addresses: one of target's family that is usable (not tentative, not
// failed DAD), preferring one whose prefix contains target, then one of the
// same scope (link-local for a link-local target, global otherwise). None
// gives the zero Addr: the probe then goes out from 0.0.0.0 or ::.
func sourceFor(addrs []netlink.Addr, target netip.Addr) netip.Addr {
	var best netip.Addr
	bestRank := 0
	for _, a := range addrs {
		if a.IPNet == nil || a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.Is4() != target.Is4() || ip.IsLoopback() {
			continue
		}
		ones, _ := a.Mask.Size()
		rank := 1
		if ip.IsLinkLocalUnicast() == target.IsLinkLocalUnicast() {
			rank = 2
		}
		if p, err := ip.Prefix(ones); err == nil && p.Contains(target) {
			rank = 3
		}
		if rank > bestRank {
			best, bestRank = ip, rank
		}
	}
	return best
}

// files names the state files of one instance. Everything is removed on
// stop.
type files struct {
	state ocf.State
	base  string
}

// stateEnv carries the state-file base name to the watcher; it also marks
// the watcher's process so that stop and monitor recognise it.
const stateEnv = "HANET_LINKHEALTH_STATE"

func filesFor(c *ocf.Call) files {
	return files{state: c.State, base: c.State.Path("linkhealth", c.Instance, "")}
}

func (f files) conf() string   { return f.base + ".conf" }   // Config the watcher applies
func (f files) status() string { return f.base + ".status" } // Status the watcher writes
func (f files) record() string { return f.base + ".pid" }    // record start writes
func (f files) log() string    { return f.base + ".log" }    // the watcher's stderr
func (f files) lock() string   { return f.base + ".watch" }  // flock held by the watcher

// record is what start leaves for monitor and stop.
type record struct {
	Pid        int    `json:"pid"`
	Name       string `json:"name"`
	HealthName string `json:"health_name,omitempty"`
}

// watchedLink is one configured interface in the watcher.
type watchedLink struct {
	name     string
	targets  []Target
	view     View
	up       bool // Judge's verdict on view
	partial  bool
	detail   string
	state    LinkState
	downs    int  // Down observations so far: probe results straddling one are dropped
	probeDue bool // probe now (carrier returned, targets added)
}

// concerns reports whether event ev may change l's view.
func (l *watchedLink) concerns(ev netif.LinkEvent) bool {
	if ev.Name == l.name || (l.view.Index != 0 && ev.Index == l.view.Index) {
		return true
	}
	if !l.view.Bond || l.view.Index == 0 {
		return false
	}
	if ev.MasterIndex == l.view.Index {
		return true
	}
	for _, s := range l.view.Slaves {
		if s.Index == ev.Index {
			return true
		}
	}
	return false
}

// A probeRound is the outcome of one round of probes: per link, whether
// any target answered, and the link's Down count at launch.
type probeRound struct {
	ok    map[string]bool
	downs map[string]int
}

// pubResult is the outcome of one attrd_updater run.
type pubResult struct {
	health bool // the #health attribute, not the value
	delete bool // a removal of the #health attribute
	value  string
	err    error
}

// errOrphaned ends a watcher whose configuration file vanished.
var errOrphaned = errors.New("configuration file removed: exiting")

// watcher is the event loop behind a running linkhealth resource.
type watcher struct {
	f     files
	cfg   *Config
	log   *ocf.Logger
	k     kernel
	h     *netif.Handle
	attrd Attrd
	links []*watchedLink

	value        Coalescer
	health       *Coalescer // nil: health_attribute off
	healthName   string     // the #health attribute published or being published
	healthRetire string     // a #health attribute to delete once no update of it runs
	healthFlying bool       // an update or removal of a #health attribute runs
	started      bool
	attrdErr     string
	sum          Summary
	lastStatus   string
	probing      bool
	pubDone      chan pubResult
	probeDone    chan probeRound
	ticker       *time.Ticker
	wake         *time.Timer
	tickerPeriod time.Duration
	fatal        error
}

// runWatcher is the hidden "__watch" action: the watcher process itself.
func runWatcher(ctx context.Context, c *ocf.Call) error {
	f := filesFor(c)
	if b := c.Getenv(stateEnv); b != "" {
		f.base = b
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	w := &watcher{f: f, log: c.Log, pubDone: make(chan pubResult, 4), probeDone: make(chan probeRound, 1)}
	fail := func(code ocf.ExitCode, err error) error {
		w.writeFatal(code, err)
		return ocf.Wrap(code, err, "")
	}
	lock, err := os.OpenFile(f.lock(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fail(ocf.ErrGeneric, fmt.Errorf("watcher lock: %w", err))
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fail(ocf.ErrGeneric, fmt.Errorf("another watcher of %s runs (lock %s: %w)", c.Instance, f.lock(), err))
	}
	cfg, err := loadConf(f)
	if err != nil {
		return fail(ocf.ErrGeneric, err)
	}
	w.cfg = cfg
	h, err := netif.Open()
	if err != nil {
		return fail(ocf.ErrGeneric, err)
	}
	defer h.Close()
	w.h, w.k = h, hostKernel{h}
	err = w.run(ctx, hup)
	if errors.Is(err, errOrphaned) {
		w.log.Warnf("watcher: %v", err)
		return nil
	}
	return err
}

func loadConf(f files) (*Config, error) {
	var cfg Config
	if err := f.state.Load(f.conf(), &cfg); err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return &cfg, nil
}

// run is the event loop: link events, probe rounds, attrd results,
// SIGHUP, until ctx ends or a fatal error.
func (w *watcher) run(ctx context.Context, hup <-chan os.Signal) error {
	events, err := w.h.SubscribeLinks(ctx, func(err error) { w.log.Debugf("link events: %v", err) })
	if err != nil {
		w.writeFatal(ocf.ErrGeneric, err)
		return err
	}
	w.applyConfig(w.cfg, true)
	w.log.Infof("watching %s (attribute %s, %d probe target(s))", strings.Join(w.cfg.Interfaces, " "), w.cfg.Name, len(w.cfg.Targets))
	for _, l := range w.links {
		w.refresh(l)
	}
	w.tickerPeriod = w.cfg.ProbeInterval
	w.ticker = time.NewTicker(w.tickerPeriod)
	defer w.ticker.Stop()
	w.wake = time.NewTimer(time.Hour)
	defer w.wake.Stop()
	w.settle(ctx)
	for w.fatal == nil {
		select {
		case <-ctx.Done():
			w.log.Infof("watcher exiting on request")
			return nil
		case ev, ok := <-events:
			if !ok {
				if ctx.Err() != nil {
					w.log.Infof("watcher exiting on request")
					return nil
				}
				err := errors.New("link event subscription ended")
				w.writeFatal(ocf.ErrGeneric, err)
				return err
			}
			w.onEvent(ev)
		case r := <-w.probeDone:
			w.onProbes(r)
		case r := <-w.pubDone:
			w.onPublished(r)
		case <-w.ticker.C:
			if _, err := os.Stat(w.f.conf()); errors.Is(err, os.ErrNotExist) {
				return errOrphaned
			}
			w.onTick()
		case <-w.wake.C:
		case <-hup:
			w.reload()
		}
		w.settle(ctx)
	}
	return w.fatal
}

// applyConfig installs cfg: links (first time only), targets, the
// #health attribute, the probe period.
func (w *watcher) applyConfig(cfg *Config, first bool) {
	old := w.cfg
	w.cfg = cfg
	if first {
		w.value.MinGap, w.value.Burst = minUpdateGap, updateBurst
		for _, name := range cfg.Interfaces {
			w.links = append(w.links, &watchedLink{name: name})
		}
	}
	for _, l := range w.links {
		before := len(l.targets)
		l.targets = cfg.TargetsOf(l.name)
		if !first && len(l.targets) > 0 && !slices.Equal(l.targets, old.TargetsOf(l.name)) && l.up {
			l.probeDue = true
		}
		if before > 0 && len(l.targets) == 0 && l.up {
			l.feed(w, CheckOK)
		}
	}
	switch hn := cfg.HealthName(); {
	case hn != "" && w.health == nil:
		w.health = &Coalescer{MinGap: minUpdateGap, Burst: updateBurst}
		w.healthName = hn
	case hn == "" && w.health != nil:
		w.healthRetire, w.health = w.healthName, nil
	}
	if !first {
		if old.Dampen != cfg.Dampen {
			w.value.Invalidate()
			if w.health != nil {
				w.health.Invalidate()
			}
		}
		if cfg.ProbeInterval != w.tickerPeriod {
			w.tickerPeriod = cfg.ProbeInterval
			w.ticker.Reset(w.tickerPeriod)
		}
	}
}

// reload re-reads the configuration file (SIGHUP from reload-agent).
func (w *watcher) reload() {
	cfg, err := loadConf(w.f)
	if err != nil {
		w.log.Errorf("reload: %v", err)
		return
	}
	if !cfg.SameIdentity(w.cfg) {
		w.log.Errorf("reload: interfaces or name changed (%s as %s → %s as %s): needs a restart; ignored",
			strings.Join(w.cfg.Interfaces, " "), w.cfg.Name, strings.Join(cfg.Interfaces, " "), cfg.Name)
		return
	}
	w.applyConfig(cfg, false)
	w.log.Infof("reloaded configuration %d: multiplier=%d probe_interval=%s probe_timeout=%s fail_count=%d recover_count=%d dampen=%s health_attribute=%v min_healthy=%d targets=%d",
		cfg.Generation, cfg.Multiplier, cfg.ProbeInterval, cfg.ProbeTimeout, cfg.FailCount, cfg.RecoverCount, cfg.Dampen, cfg.Health, cfg.MinHealthy, len(cfg.Targets))
}

// refresh re-reads l from the kernel and judges it.
func (w *watcher) refresh(l *watchedLink) {
	v, err := observe(w.k, l.name)
	if err != nil {
		w.log.Warnf("read %s: %v", l.name, err)
		return
	}
	l.view = v
	w.judge(l)
}

// onEvent handles one link event. A plain link's state is taken from the
// event itself, so a down-up flap faster than the loop is still seen; a
// bond, an unknown or recreated link is re-read.
func (w *watcher) onEvent(ev netif.LinkEvent) {
	for _, l := range w.links {
		if !ev.Resync && !l.concerns(ev) {
			continue
		}
		if !ev.Resync && !ev.Deleted && !l.view.Bond && l.view.Exists && ev.Name == l.name && ev.Index == l.view.Index {
			l.view.Up = eventUp(ev)
			w.judge(l)
			continue
		}
		w.refresh(l)
	}
}

// judge turns l's view into observations: Down when it cannot carry
// traffic; when it just became able to, a good check (no targets) or a
// probe.
func (w *watcher) judge(l *watchedLink) {
	wasUp := l.up
	prevDetail := l.detail
	l.up, l.partial, l.detail = Judge(l.view)
	if l.detail != prevDetail {
		w.log.Debugf("%s: %s", l.name, l.detail)
	}
	switch {
	case !l.up:
		l.downs++
		l.feed(w, Down)
	case !wasUp || !l.state.Known:
		if len(l.targets) == 0 {
			l.feed(w, CheckOK)
		} else {
			l.probeDue = true
		}
	}
}

// feed runs l's state machine and logs a change of health.
func (l *watchedLink) feed(w *watcher, o Observation) {
	old := l.state
	l.state = l.state.Next(o, w.cfg.Thresholds())
	switch {
	case !old.Known:
		w.log.Infof("%s: %s (%s)", l.name, healthWord(l.state.Healthy), l.detail)
	case old.Healthy != l.state.Healthy:
		w.log.Infof("%s: %s → %s (%s, %s)", l.name, healthWord(old.Healthy), healthWord(l.state.Healthy), o, l.detail)
	}
}

func healthWord(h bool) string {
	if h {
		return "healthy"
	}
	return "unhealthy"
}

// onTick re-reads every link (events are hints), counts a good check for
// each up link without targets that is recovering, and probes the rest.
func (w *watcher) onTick() {
	for _, l := range w.links {
		wasUp := l.up
		w.refresh(l)
		if !l.up || !wasUp { // just returned: judge counted it
			continue
		}
		if len(l.targets) == 0 {
			if !l.state.Healthy {
				l.feed(w, CheckOK)
			}
			continue
		}
		l.probeDue = true
	}
}

// launchProbes starts a probe round for the links that are due, unless one
// runs.
func (w *watcher) launchProbes(ctx context.Context) {
	if w.probing {
		return
	}
	type job struct {
		link    string
		index   int
		targets []Target
	}
	var jobs []job
	round := probeRound{ok: map[string]bool{}, downs: map[string]int{}}
	for _, l := range w.links {
		if !l.probeDue {
			continue
		}
		l.probeDue = false
		if !l.up || len(l.targets) == 0 {
			continue
		}
		jobs = append(jobs, job{l.name, l.view.Index, l.targets})
		round.downs[l.name] = l.downs
	}
	if len(jobs) == 0 {
		return
	}
	w.probing = true
	timeout := w.cfg.ProbeTimeout
	go func() {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, j := range jobs {
			for _, t := range j.targets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := w.probe(ctx, j.index, t, timeout)
					if err != nil {
						w.log.Debugf("probe %s: %v", t, err)
					}
					mu.Lock()
					round.ok[j.link] = round.ok[j.link] || err == nil
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		w.probeDone <- round
	}()
}

// probe asks for target's MAC on link index, from the link's own address
// of the target's family. Equivalent to: arping -c 1 -I $iface $target
// (ndisc6 $target $iface for IPv6).
func (w *watcher) probe(ctx context.Context, index int, t Target, timeout time.Duration) error {
	ifi, err := net.InterfaceByIndex(index)
	if err != nil {
		return err
	}
	family := netlink.FAMILY_V4
	if t.Addr.Is6() {
		family = netlink.FAMILY_V6
	}
	var src netip.Addr
	if l, err := w.h.LinkByIndex(index); err == nil {
		if addrs, err := w.h.Addrs(l, family); err == nil {
			src = sourceFor(addrs, t.Addr)
		}
	}
	_, err = garp.Resolve(ctx, ifi, src, t.Addr, timeout)
	return err
}

// onProbes applies a probe round, dropping the results of links that lost
// carrier while it ran.
func (w *watcher) onProbes(r probeRound) {
	w.probing = false
	for _, l := range w.links {
		downs, ok := r.downs[l.name]
		if !ok || downs != l.downs || !l.up || len(l.targets) == 0 {
			continue
		}
		if r.ok[l.name] {
			l.feed(w, CheckOK)
		} else {
			l.feed(w, CheckFailed)
		}
	}
}

// onPublished records an attrd_updater outcome. The first value failing to
// publish is fatal (start reports it); later failures are retried.
func (w *watcher) onPublished(r pubResult) {
	now := time.Now()
	name := w.cfg.Name
	switch {
	case r.delete:
		w.healthFlying = false
		if r.err != nil {
			w.log.Warnf("remove %s: %v", r.value, r.err)
		} else {
			w.log.Infof("removed %s", r.value)
		}
		return
	case r.health:
		w.healthFlying = false
		if w.health == nil { // retired meanwhile; its removal follows
			return
		}
		w.health.Done(r.value, r.err, now)
		name = w.healthName
	default:
		w.value.Done(r.value, r.err, now)
	}
	if r.err != nil {
		if !w.started {
			w.fatal = attrdError(r.err, "publish the first value of "+name)
			w.writeFatal(ocf.CodeOf(w.fatal), w.fatal)
			return
		}
		w.attrdErr = r.err.Error()
		w.log.Errorf("publish %s=%s: %v (retrying)", name, r.value, r.err)
		return
	}
	w.attrdErr = ""
	w.log.Infof("published %s=%s (%d of %d links healthy)", name, r.value, w.sum.Healthy, w.sum.Total)
}

// settle publishes what changed, starts due probes, rearms the wake-up
// timer and rewrites the status when it changed.
func (w *watcher) settle(ctx context.Context) {
	if w.fatal != nil {
		return
	}
	w.launchProbes(ctx)
	known := true
	healthy := make([]bool, len(w.links))
	partial := false
	for i, l := range w.links {
		known = known && l.state.Known
		healthy[i] = l.state.Healthy
		partial = partial || (l.state.Healthy && l.partial)
	}
	if known {
		w.sum = Summarize(healthy, partial, w.cfg.Multiplier, w.cfg.MinHealthy)
		w.value.Want(strconv.Itoa(w.sum.Value))
		if w.health != nil {
			w.health.Want(w.sum.Color)
		}
	}
	if !w.started {
		_, v := w.value.Published()
		h := w.health == nil
		if !h {
			_, h = w.health.Published()
		}
		w.started = v && h
	}
	// The status first: once attrd_updater runs, monitor sees the same.
	w.writeStatus()
	now := time.Now()
	name, dampen := w.cfg.Name, w.cfg.Dampen
	if v, ok := w.value.Start(now); ok {
		go func() { w.pubDone <- pubResult{value: v, err: w.attrd.Update(ctx, name, v, dampen)} }()
	}
	if w.health != nil && !w.healthFlying {
		if v, ok := w.health.Start(now); ok {
			w.healthFlying = true
			name := w.healthName
			go func() { w.pubDone <- pubResult{health: true, value: v, err: w.attrd.Update(ctx, name, v, dampen)} }()
		}
	}
	if w.healthRetire != "" && !w.healthFlying {
		name := w.healthRetire
		w.healthRetire, w.healthFlying = "", true
		go func() { w.pubDone <- pubResult{delete: true, value: name, err: w.attrd.Delete(ctx, name)} }()
	}
	w.rearm(now)
}

// rearm sets the wake-up timer for the earliest pending update.
func (w *watcher) rearm(now time.Time) {
	at, ok := w.value.Wake()
	if w.health != nil {
		if t, hok := w.health.Wake(); hok && (!ok || t.Before(at)) {
			at, ok = t, true
		}
	}
	if !w.wake.Stop() {
		select {
		case <-w.wake.C:
		default:
		}
	}
	if ok {
		w.wake.Reset(max(at.Sub(now), 0))
	}
}

// status builds the Status from the watcher's state.
func (w *watcher) status() Status {
	st := Status{
		Pid:        os.Getpid(),
		Generation: w.cfg.Generation,
		Started:    w.started,
		Value:      w.sum.Value,
		Healthy:    w.sum.Healthy,
		Total:      len(w.links),
		MinHealthy: w.cfg.MinHealthy,
		Short:      w.sum.Short,
		Color:      w.sum.Color,
		AttrdError: w.attrdErr,
	}
	st.Published, _ = w.value.Published()
	if w.health != nil {
		st.HealthName = w.healthName
	}
	for _, l := range w.links {
		st.Links = append(st.Links, LinkReport{Name: l.name, Healthy: l.state.Healthy, Partial: l.up && l.partial, Detail: l.detail})
	}
	return st
}

// writeStatus saves the status when it changed.
func (w *watcher) writeStatus() {
	st := w.status()
	key := fmt.Sprintf("%+v", st)
	if key == w.lastStatus {
		return
	}
	st.Updated = time.Now()
	if err := writeJSON(w.f.status(), st); err != nil {
		w.log.Warnf("write status: %v", err)
		return
	}
	w.lastStatus = key
}

// writeJSON replaces path with v as JSON atomically (a temporary file in
// the same directory, renamed), without ocf.State.Save's fsync: the status
// lives on tmpfs, is rewritten on every change and must not delay the
// attrd_updater call that follows it.
func writeJSON(path string, v any) error {
	data, err := ocf.MarshalState(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeFatal records why the watcher gives up, for start to report.
func (w *watcher) writeFatal(code ocf.ExitCode, err error) {
	st := Status{Pid: os.Getpid(), Fatal: err.Error(), FatalCode: int(code), Updated: time.Now()}
	if w.cfg != nil {
		st.Generation = w.cfg.Generation
	}
	if serr := w.f.state.Save(w.f.status(), st); serr != nil {
		w.log.Errorf("write status: %v", serr)
	}
}
