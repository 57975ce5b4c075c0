package linkhealth

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hanet/hanet/pkg/netif"
	"github.com/hanet/hanet/pkg/ocf"
)

// AttrPrefix starts the default attribute name, as "ethmonitor-" does for
// ethmonitor.
const AttrPrefix = "linkhealth"

// HealthPrefix starts the node-health attribute name (Pacemaker sums the
// attributes whose names start with "#health").
const HealthPrefix = "#health-"

// A Target is an address probed through one interface.
type Target struct {
	Addr  netip.Addr `json:"addr"`
	Iface string     `json:"iface"`
}

// String returns the target in parameter syntax, ADDRESS@INTERFACE.
func (t Target) String() string { return t.Addr.String() + "@" + t.Iface }

// Config is a linkhealth resource's parsed configuration. Start,
// validate-all, reload-agent and the watcher share it; the watcher reads it
// from the state directory, where start and reload-agent write it.
type Config struct {
	Interfaces    []string      `json:"interfaces"`
	Name          string        `json:"name"`
	Multiplier    int           `json:"multiplier"`
	Targets       []Target      `json:"targets,omitempty"`
	ProbeInterval time.Duration `json:"probe_interval"`
	ProbeTimeout  time.Duration `json:"probe_timeout"`
	FailCount     int           `json:"fail_count"`
	RecoverCount  int           `json:"recover_count"`
	Dampen        time.Duration `json:"dampen"`
	Health        bool          `json:"health_attribute"`
	MinHealthy    int           `json:"min_healthy"`
	// Generation counts the configurations written for one watcher, so
	// reload-agent can see its change applied.
	Generation int `json:"generation"`
}

// HealthName returns the node-health attribute name, "#health-<name>", or
// "" when health_attribute is off.
func (c *Config) HealthName() string {
	if !c.Health {
		return ""
	}
	return HealthPrefix + c.Name
}

// TargetsOf returns the targets probed through iface.
func (c *Config) TargetsOf(iface string) []Target {
	var ts []Target
	for _, t := range c.Targets {
		if t.Iface == iface {
			ts = append(ts, t)
		}
	}
	return ts
}

// Thresholds returns the hysteresis settings for the health state machine.
func (c *Config) Thresholds() Thresholds {
	return Thresholds{FailCount: c.FailCount, RecoverCount: c.RecoverCount}
}

// SameIdentity reports whether c and o watch the same interfaces under the
// same attribute name: what reload-agent cannot change.
func (c *Config) SameIdentity(o *Config) bool {
	return c.Name == o.Name && slices.Equal(c.Interfaces, o.Interfaces)
}

// Limits of the numeric parameters.
const (
	maxMultiplier    = 1000000
	maxCount         = 1000
	minProbeInterval = 100 * time.Millisecond
	maxProbeInterval = time.Hour
	minProbeTimeout  = 10 * time.Millisecond
	// defaultProbeTimeout caps the default probe_timeout (half of
	// probe_interval): on a LAN an answer takes well under a millisecond.
	defaultProbeTimeout = 500 * time.Millisecond
	maxDampen           = time.Hour
)

// DefaultName returns the attribute name derived from the interfaces:
// linkhealth-<if> for one, linkhealth-<if1>-<if2>… for several.
func DefaultName(ifaces []string) string {
	return AttrPrefix + "-" + strings.Join(ifaces, "-")
}

// parseConfig turns the parameter values into a Config. Every error carries
// ocf.ErrConfigured: it depends on the parameters alone, never on the host.
func parseConfig(v *ocf.Values) (*Config, error) {
	bad := func(format string, args ...any) error {
		return ocf.Errorf(ocf.ErrConfigured, format, args...)
	}
	c := &Config{}
	seen := map[string]bool{}
	for _, name := range v.List("interfaces") {
		if err := netif.ValidName(name); err != nil {
			return nil, bad("interfaces: %v", err)
		}
		if seen[name] {
			return nil, bad("interfaces: %s listed twice", name)
		}
		seen[name] = true
		c.Interfaces = append(c.Interfaces, name)
	}
	if len(c.Interfaces) == 0 {
		return nil, bad("interfaces: no interface given")
	}

	c.Name = strings.TrimSpace(v.String("name"))
	if c.Name == "" {
		c.Name = DefaultName(c.Interfaces)
	}
	if strings.ContainsAny(c.Name, " \t\r\n") || strings.HasPrefix(c.Name, "#") || strings.HasPrefix(c.Name, "-") {
		return nil, bad("name %q: want an attribute name without spaces, not starting with '#' or '-'", c.Name)
	}

	var err error
	if c.Multiplier, err = intIn(v, "multiplier", 1, maxMultiplier); err != nil {
		return nil, err
	}
	if c.FailCount, err = intIn(v, "fail_count", 1, maxCount); err != nil {
		return nil, err
	}
	if c.RecoverCount, err = intIn(v, "recover_count", 1, maxCount); err != nil {
		return nil, err
	}
	if c.MinHealthy, err = intIn(v, "min_healthy", 0, int64(len(c.Interfaces))); err != nil {
		return nil, err
	}

	c.ProbeInterval = v.Duration("probe_interval")
	if c.ProbeInterval < minProbeInterval || c.ProbeInterval > maxProbeInterval {
		return nil, bad("probe_interval %s: want %s to %s", c.ProbeInterval, minProbeInterval, maxProbeInterval)
	}
	c.ProbeTimeout = v.Duration("probe_timeout")
	if !v.IsSet("probe_timeout") {
		c.ProbeTimeout = min(c.ProbeInterval/2, defaultProbeTimeout)
	}
	if c.ProbeTimeout < minProbeTimeout || c.ProbeTimeout > c.ProbeInterval {
		return nil, bad("probe_timeout %s: want %s to probe_interval (%s)", c.ProbeTimeout, minProbeTimeout, c.ProbeInterval)
	}
	c.Dampen = v.Duration("dampen")
	if c.Dampen > maxDampen {
		return nil, bad("dampen %s: want at most %s", c.Dampen, maxDampen)
	}
	c.Health = v.Bool("health_attribute")

	seenT := map[Target]bool{}
	for _, s := range v.List("arp_targets") {
		t, err := parseTarget(s, c.Interfaces)
		if err != nil {
			return nil, bad("arp_targets: %v", err)
		}
		if !seenT[t] {
			seenT[t] = true
			c.Targets = append(c.Targets, t)
		}
	}
	return c, nil
}

// intIn reads an integer parameter and checks it is within [lo, hi].
func intIn(v *ocf.Values, name string, lo, hi int64) (int, error) {
	n := v.Int(name)
	if n < lo || n > hi {
		return 0, ocf.Errorf(ocf.ErrConfigured, "%s=%d: want %d to %d", name, n, lo, hi)
	}
	return int(n), nil
}

// parseTarget reads one ADDRESS@INTERFACE target. An address contains no
// '@', so the first '@' separates; with a single configured interface the
// '@INTERFACE' part may be omitted.
func parseTarget(s string, ifaces []string) (Target, error) {
	addrText, iface, hasIface := strings.Cut(s, "@")
	if !hasIface {
		if len(ifaces) != 1 {
			return Target{}, fmt.Errorf("%q: write ADDRESS@INTERFACE (several interfaces are watched)", s)
		}
		iface = ifaces[0]
	}
	addr, err := netip.ParseAddr(addrText)
	if err != nil {
		return Target{}, fmt.Errorf("%q: %q is not an IPv4 or IPv6 address (want ADDRESS@INTERFACE)", s, addrText)
	}
	if addr.Zone() != "" {
		return Target{}, fmt.Errorf("%q: give the interface after '@', not as a zone", s)
	}
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsUnspecified() || addr.IsMulticast() || addr.IsLoopback() ||
		(addr.Is4() && addr == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return Target{}, fmt.Errorf("%q: %s cannot answer an ARP or neighbour solicitation", s, addr)
	}
	if err := netif.ValidName(iface); err != nil {
		return Target{}, fmt.Errorf("%q: %v", s, err)
	}
	if !slices.Contains(ifaces, iface) {
		return Target{}, fmt.Errorf("%q: %s is not one of interfaces (%s)", s, iface, strings.Join(ifaces, " "))
	}
	return Target{Addr: addr, Iface: iface}, nil
}

// attrdDuration renders a duration for attrd_updater -d: whole seconds as
// "5s", anything else in milliseconds ("1500ms").
func attrdDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", (d+time.Millisecond-1)/time.Millisecond)
}
