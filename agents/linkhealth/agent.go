// Package linkhealth is the policy of the ocf:hanet:linkhealth resource
// agent: link health, seen through netlink events and optional ARP /
// neighbour-solicitation probes, published as a transient node attribute
// (healthy links × multiplier) through attrd_updater, and optionally as a
// #health-* attribute for node-health-strategy.
//
// Start launches a watcher, the same program running the hidden action
// "__watch" in its own session (ocf.Spawn), and returns once the watcher has
// published the first value. The watcher reacts to carrier loss within
// milliseconds and calls attrd_updater only when the published value
// changes, with updates coalesced and rate-limited. Monitor checks the
// watcher and restarts it if it died; stop kills it and removes the
// attributes; reload-agent hands it new tunables through its configuration
// file and SIGHUP.
package linkhealth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hanet/hanet/pkg/netif"
	"github.com/hanet/hanet/pkg/ocf"
)

// Agent is the ocf:hanet:linkhealth resource agent. It holds no state:
// everything an action needs comes from its Call and the state directory.
type Agent struct{}

var (
	_ ocf.Agent    = Agent{}
	_ ocf.Reloader = Agent{}
	_ ocf.Helper   = Agent{}
)

// Spec returns the agent's parameter table and actions.
func (Agent) Spec() *ocf.Spec { return &Spec }

func config(c *ocf.Call) (*Config, error) { return parseConfig(c.Params) }

// Validate checks the parameters; at OCF_CHECK_LEVEL 10 it also checks that
// every interface exists on this node (2 if not) and that attrd_updater is
// installed (5 if not).
func (Agent) Validate(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	if c.CheckLevel < 10 {
		return nil
	}
	missing, err := missingInterfaces(cfg)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return ocf.Errorf(ocf.ErrArgs, "interface %s does not exist on this node", strings.Join(missing, ", "))
	}
	if _, err := (Attrd{}).Path(); err != nil {
		return attrdError(err, "validate")
	}
	return nil
}

// missingInterfaces returns the configured interfaces absent on this node.
func missingInterfaces(cfg *Config) ([]string, error) {
	h, err := netif.Open()
	if err != nil {
		return nil, ocf.Wrap(ocf.ErrGeneric, err, "open netlink")
	}
	defer h.Close()
	var missing []string
	for _, name := range cfg.Interfaces {
		_, err := h.LinkByName(name)
		switch {
		case errors.Is(err, netif.ErrLinkNotFound):
			missing = append(missing, name)
		case err != nil:
			return nil, ocf.Wrap(ocf.ErrGeneric, err, "look up "+name)
		}
	}
	return missing, nil
}

// Start launches the watcher and returns once it has published the first
// value. A configured interface missing here is not an error: it counts as
// an unhealthy link. Already running is success.
func (a Agent) Start(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	f := filesFor(c)
	lock, err := c.State.Lock(ctx, "linkhealth", c.Instance)
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "start")
	}
	defer lock.Unlock()
	var rec record
	if f.state.Load(f.record(), &rec) == nil && ocf.IsHelper(rec.Pid, "watch", stateEnv+"="+f.base) {
		c.Log.Infof("already running (watcher pid %d)", rec.Pid)
		return nil
	}
	if _, err := (Attrd{}).Path(); err != nil {
		return attrdError(err, "start")
	}
	if len(cfg.Targets) > 0 && os.Geteuid() != 0 {
		return ocf.Errorf(ocf.ErrPerm, "arp_targets need root (CAP_NET_RAW) to send ARP and neighbour solicitations")
	}
	if missing, err := missingInterfaces(cfg); err != nil {
		return err
	} else if len(missing) > 0 {
		c.Log.Warnf("interface %s does not exist on this node: counted as unhealthy", strings.Join(missing, ", "))
	}
	cfg.Generation = 1
	st, err := launch(ctx, c, f, cfg)
	if err != nil {
		return err
	}
	c.Log.Infof("started: %s=%d, %d of %d links healthy (watcher pid %d)", cfg.Name, st.Value, st.Healthy, st.Total, st.Pid)
	return nil
}

// launch starts a watcher for cfg and waits until it has published its
// first value. On failure nothing is left running and the state files are
// gone.
func launch(ctx context.Context, c *ocf.Call, f files, cfg *Config) (*Status, error) {
	for _, pid := range watcherPids(f.base) {
		c.Log.Warnf("killing a stray watcher (pid %d)", pid)
		killWatcher(ctx, pid)
	}
	if err := f.state.Remove(f.status()); err != nil {
		return nil, ocf.Wrap(ocf.ErrGeneric, err, "start")
	}
	if err := f.state.Save(f.conf(), cfg); err != nil {
		return nil, ocf.Wrap(ocf.ErrGeneric, err, "start")
	}
	// The watcher reads its configuration from the file; its parameters
	// are reset to the defaults so that none can fail its own parsing.
	env := []string{"OCF_RESOURCE_INSTANCE=" + c.Instance, "HA_RSCTMP=" + c.State.Dir, stateEnv + "=" + f.base}
	for _, p := range Params {
		env = append(env, "OCF_RESKEY_"+p.Name+"=")
	}
	env = append(env, "OCF_RESKEY_interfaces="+strings.Join(cfg.Interfaces, " "))
	pid, err := ocf.Spawn("watch", env, f.log())
	if err != nil {
		cleanup(f)
		return nil, ocf.Wrap(ocf.ErrGeneric, err, "start watcher")
	}
	rec := record{Pid: pid, Name: cfg.Name, HealthName: cfg.HealthName()}
	if err := f.state.Save(f.record(), rec); err != nil {
		killWatcher(ctx, pid)
		cleanup(f)
		return nil, ocf.Wrap(ocf.ErrGeneric, err, "start")
	}
	st, err := waitStarted(ctx, f, pid)
	if err != nil {
		killWatcher(context.Background(), pid)
		cleanup(f)
		return nil, err
	}
	return st, nil
}

// waitStarted polls the status file until watcher pid reports its first
// value published, gives up (Fatal), dies or ctx ends.
func waitStarted(ctx context.Context, f files, pid int) (*Status, error) {
	for {
		var st Status
		if f.state.Load(f.status(), &st) == nil && st.Pid == pid {
			if st.Fatal != "" {
				code := ocf.ExitCode(st.FatalCode)
				if code == ocf.Success {
					code = ocf.ErrGeneric
				}
				return nil, ocf.Errorf(code, "%s", st.Fatal)
			}
			if st.Started {
				return &st, nil
			}
		}
		// pid is this process's own child, never reaped here, so it cannot
		// be recycled: ask ocf.Alive, not ocf.IsHelper. Right after ocf.Spawn
		// returns, /proc/<pid>/cmdline may still show this process's own
		// command line (or nothing) while the child's execve completes, and
		// IsHelper took a slow exec (seen under qemu TCG) for an exit.
		if !ocf.Alive(pid) {
			if f.state.Load(f.status(), &st) == nil && st.Pid == pid && st.Fatal != "" {
				continue // it wrote why before exiting
			}
			return nil, ocf.Errorf(ocf.ErrGeneric, "watcher (pid %d) exited during start%s", pid, logTail(f))
		}
		select {
		case <-ctx.Done():
			return nil, ocf.Errorf(ocf.ErrGeneric, "watcher (pid %d) published no value before the timeout: %w", pid, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// logTail returns ": <last line of the watcher's log>", or "".
func logTail(f files) string {
	b, err := os.ReadFile(f.log())
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return ": " + last
	}
	return ""
}

// cleanup removes the state files of an instance (not the action lock,
// which a waiter may hold open).
func cleanup(f files) {
	for _, p := range []string{f.conf(), f.status(), f.status() + ".tmp", f.record(), f.log(), f.lock()} {
		_ = f.state.Remove(p)
	}
}

// Monitor reports 7 when start's record is absent. Otherwise it checks
// that the watcher runs, restarting it (and logging so) when it died, and
// reports 190 (degraded) when fewer than min_healthy links are healthy, 1
// when attrd_updater keeps failing, else 0. Parameters are not needed: the
// configuration start or reload-agent applied is in the state directory.
func (a Agent) Monitor(ctx context.Context, c *ocf.Call) error {
	f := filesFor(c)
	var rec record
	if err := f.state.Load(f.record(), &rec); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ocf.ErrNotRunning
		}
		return ocf.Wrap(ocf.ErrGeneric, err, "monitor")
	}
	if ocf.IsHelper(rec.Pid, "watch", stateEnv+"="+f.base) {
		var st Status
		if err := f.state.Load(f.status(), &st); err != nil {
			return ocf.Wrap(ocf.ErrGeneric, err, "monitor: watcher status")
		}
		return verdict(&st)
	}

	lock, err := c.State.Lock(ctx, "linkhealth", c.Instance)
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "monitor")
	}
	defer lock.Unlock()
	if err := f.state.Load(f.record(), &rec); err != nil {
		return ocf.ErrNotRunning // stopped meanwhile
	}
	if ocf.IsHelper(rec.Pid, "watch", stateEnv+"="+f.base) { // restarted meanwhile
		return a.Monitor(ctx, c)
	}
	cfg, err := loadConf(f)
	if err != nil {
		if cfg, err = config(c); err != nil {
			return ocf.Errorf(ocf.ErrGeneric, "watcher (pid %d) is gone and its configuration is lost: %v", rec.Pid, err)
		}
		cfg.Generation = 1
	}
	c.Log.Warnf("watcher (pid %d) is not running: restarting it", rec.Pid)
	st, err := launch(ctx, c, f, cfg)
	if err != nil {
		return ocf.Wrap(ocf.CodeOf(err), err, "restart dead watcher")
	}
	c.Log.Infof("watcher restarted (pid %d): %s=%d, %d of %d links healthy", st.Pid, cfg.Name, st.Value, st.Healthy, st.Total)
	return verdict(st)
}

// verdict is monitor's answer from a live watcher's status.
func verdict(st *Status) error {
	switch {
	case st.AttrdError != "":
		return ocf.Errorf(ocf.ErrGeneric, "attrd_updater keeps failing: %s", st.AttrdError)
	case st.Short:
		return ocf.Errorf(ocf.Degraded, "%d of %d links healthy, below min_healthy %d: %s", st.Healthy, st.Total, st.MinHealthy, st.Problems())
	}
	return nil
}

// stopAttrdTimeout bounds each attrd_updater -D in stop.
const stopAttrdTimeout = 5 * time.Second

// Stop kills the watcher and removes the attributes it published. attrd
// being unreachable is only a warning: transient attributes die with it.
// Stop fails only when a watcher survives SIGKILL.
func (a Agent) Stop(ctx context.Context, c *ocf.Call) error {
	f := filesFor(c)
	lock, err := c.State.Lock(ctx, "linkhealth", c.Instance)
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "stop")
	}
	defer lock.Unlock()

	var rec record
	hasRec := f.state.Load(f.record(), &rec) == nil
	cfg, _ := loadConf(f)
	var st Status
	hasSt := f.state.Load(f.status(), &st) == nil

	pids := watcherPids(f.base)
	if hasRec && ocf.IsHelper(rec.Pid, "watch", stateEnv+"="+f.base) && !contains(pids, rec.Pid) {
		pids = append(pids, rec.Pid)
	}
	for _, pid := range pids {
		if !killWatcher(ctx, pid) {
			return ocf.Errorf(ocf.ErrGeneric, "watcher (pid %d) survives SIGKILL", pid)
		}
		c.Log.Infof("stopped watcher (pid %d)", pid)
	}

	if hasRec || cfg != nil || hasSt {
		var names []string
		add := func(n string) {
			if n != "" && !contains(names, n) {
				names = append(names, n)
			}
		}
		add(rec.Name)
		add(rec.HealthName)
		if cfg != nil {
			add(cfg.Name)
			add(cfg.HealthName())
		}
		add(st.HealthName)
		if pc, err := config(c); err == nil {
			add(pc.Name)
		}
		at := Attrd{Timeout: stopAttrdTimeout}
		for _, n := range names {
			if err := at.Delete(ctx, n); err != nil {
				c.Log.Warnf("stop: attribute %s not removed: %v (transient attributes vanish with attrd)", n, err)
			}
		}
	}
	cleanup(f)
	return nil
}

// Reload applies changed tunables to the running watcher: it rewrites the
// watcher's configuration file, signals it with SIGHUP and waits until the
// watcher reports the new configuration applied. Interfaces and name
// cannot change this way (1). Not running, there is nothing to do (0).
func (a Agent) Reload(ctx context.Context, c *ocf.Call) error {
	cfg, err := config(c)
	if err != nil {
		return err
	}
	f := filesFor(c)
	lock, err := c.State.Lock(ctx, "linkhealth", c.Instance)
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "reload")
	}
	defer lock.Unlock()
	var rec record
	if f.state.Load(f.record(), &rec) != nil || !ocf.IsHelper(rec.Pid, "watch", stateEnv+"="+f.base) {
		c.Log.Infof("reload: not running, nothing to apply")
		return nil
	}
	old, err := loadConf(f)
	if err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "reload")
	}
	if !cfg.SameIdentity(old) {
		return ocf.Errorf(ocf.ErrGeneric, "reload: interfaces or name changed (%s as %s, now %s as %s): restart the resource",
			strings.Join(old.Interfaces, " "), old.Name, strings.Join(cfg.Interfaces, " "), cfg.Name)
	}
	cfg.Generation = old.Generation + 1
	if err := f.state.Save(f.conf(), cfg); err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, "reload")
	}
	if hn := cfg.HealthName(); hn != "" && hn != rec.HealthName {
		rec.HealthName = hn
		if err := f.state.Save(f.record(), rec); err != nil {
			return ocf.Wrap(ocf.ErrGeneric, err, "reload")
		}
	}
	if err := syscall.Kill(rec.Pid, syscall.SIGHUP); err != nil {
		return ocf.Wrap(ocf.ErrGeneric, err, fmt.Sprintf("reload: signal watcher (pid %d)", rec.Pid))
	}
	for {
		var st Status
		if f.state.Load(f.status(), &st) == nil && st.Pid == rec.Pid && st.Generation >= cfg.Generation {
			c.Log.Infof("reloaded: multiplier=%d probe_interval=%s probe_timeout=%s fail_count=%d recover_count=%d dampen=%s health_attribute=%v min_healthy=%d",
				cfg.Multiplier, cfg.ProbeInterval, cfg.ProbeTimeout, cfg.FailCount, cfg.RecoverCount, cfg.Dampen, cfg.Health, cfg.MinHealthy)
			return nil
		}
		if !ocf.IsHelper(rec.Pid, "watch", stateEnv+"="+f.base) {
			return ocf.Errorf(ocf.ErrGeneric, "reload: watcher (pid %d) exited", rec.Pid)
		}
		select {
		case <-ctx.Done():
			return ocf.Errorf(ocf.ErrGeneric, "reload: watcher (pid %d) did not apply the configuration: %w", rec.Pid, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Helper runs the hidden "__watch" action: the watcher.
func (Agent) Helper(ctx context.Context, c *ocf.Call, name string) error {
	if name != "watch" {
		return ocf.Errorf(ocf.ErrUnimplemented, "no helper %q", name)
	}
	return runWatcher(ctx, c)
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// watcherPids returns every live watcher of the instance with state base.
func watcherPids(base string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if ocf.IsHelper(pid, "watch", stateEnv+"="+base) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killWatcher ends watcher pid: SIGTERM, up to 2 s (or ctx) to exit, then
// SIGKILL and up to 1 s more. It reports whether the watcher is gone.
func killWatcher(ctx context.Context, pid int) bool {
	gone := func(d time.Duration) bool {
		deadline := time.Now().Add(d)
		for {
			if !ocf.Alive(pid) {
				return true
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return false
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	if gone(2 * time.Second) {
		return true
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	ctx = context.Background()
	return gone(time.Second)
}
