package bond

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	bondlink "github.com/hanet/hanet/pkg/bond"
	"github.com/hanet/hanet/pkg/netif"
	"github.com/hanet/hanet/pkg/ocf"
)

// Config is the bond resource's parsed configuration, shared by every
// action.
type Config struct {
	Name      string
	Slaves    []string
	Options   bondlink.Options
	MinActive int  // ports up below which monitor says degraded
	Adopt     bool // take over an existing bond with our mode and slaves
}

// defaultMiimon is the MII interval used when no link monitor is configured,
// as the kernel's own module does for the modes that need one.
const defaultMiimon = 100

// maxARPTargets is the kernel's BOND_MAX_ARP_TARGETS.
const maxARPTargets = 16

// parseConfig turns the parameter values into a Config. It fails with
// ErrConfigured (6) only for what is wrong on every node: malformed values
// and combinations the kernel refuses or that cannot work. It never looks at
// the host. warn receives notes about options accepted but without effect.
func parseConfig(v *ocf.Values, warn func(string, ...any)) (*Config, error) {
	bad := func(format string, args ...any) error { return ocf.Errorf(ocf.ErrConfigured, format, args...) }
	c := &Config{Name: strings.TrimSpace(v.String("name"))}
	if err := netif.ValidName(c.Name); err != nil {
		return nil, bad("name: %v", err)
	}
	if c.Name == "bonding_masters" {
		return nil, bad("name %s clashes with /sys/class/net/bonding_masters", c.Name)
	}

	c.Slaves = v.List("slaves")
	if len(c.Slaves) == 0 {
		return nil, bad("slaves: no interface given")
	}
	seen := map[string]bool{}
	for _, s := range c.Slaves {
		if err := netif.ValidName(s); err != nil {
			return nil, bad("slaves: %v", err)
		}
		if s == c.Name {
			return nil, bad("slaves: %s cannot be a port of itself", s)
		}
		if seen[s] {
			return nil, bad("slaves: %s is listed twice", s)
		}
		seen[s] = true
	}

	o := &c.Options
	mode, err := bondlink.ParseMode(v.String("mode"))
	if err != nil {
		return nil, bad("%v", err)
	}
	o.Mode = mode

	intOpt := func(name string) *int {
		if !v.IsSet(name) {
			return nil
		}
		n := int(v.Int(name))
		return &n
	}
	boolOpt := func(name string) *bool {
		if !v.IsSet(name) {
			return nil
		}
		b := v.Bool(name)
		return &b
	}

	// Link monitoring: MII or ARP, not both.
	o.Miimon = intOpt("miimon")
	o.ARPInterval = intOpt("arp_interval")
	arp := o.ARPInterval != nil && *o.ARPInterval > 0
	mii := o.Miimon != nil && *o.Miimon > 0
	switch {
	case arp && mii:
		return nil, bad("miimon %d and arp_interval %d exclude each other: set one", *o.Miimon, *o.ARPInterval)
	case arp && !mode.UsesARPMonitor():
		return nil, bad("arp_interval is not supported in mode %s (use miimon)", mode)
	case o.Miimon == nil && !arp:
		o.Miimon = bondlink.Ptr(defaultMiimon)
		mii = true
	case !mii && !arp:
		warn("miimon 0 and no arp_interval: the bond does not monitor its links")
	}
	o.UseCarrier = boolOpt("use_carrier")
	for _, d := range []struct {
		name string
		dst  **int
	}{{"updelay", &o.UpDelay}, {"downdelay", &o.DownDelay}} {
		*d.dst = intOpt(d.name)
		if *d.dst == nil || **d.dst == 0 {
			continue
		}
		if !mii {
			return nil, bad("%s %d needs miimon", d.name, **d.dst)
		}
		if **d.dst%*o.Miimon != 0 {
			return nil, bad("%s %d is not a multiple of miimon %d", d.name, **d.dst, *o.Miimon)
		}
	}

	// ARP monitor.
	if t := v.List("arp_ip_target"); len(t) > 0 {
		if len(t) > maxARPTargets {
			return nil, bad("arp_ip_target: %d addresses, the kernel takes at most %d", len(t), maxARPTargets)
		}
		for _, s := range t {
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() {
				return nil, bad("arp_ip_target %q is not an IPv4 address", s)
			}
			if a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || a.IsLoopback() {
				return nil, bad("arp_ip_target %s cannot answer ARP", a)
			}
			if slices.Contains(o.ARPIPTargets, a) {
				return nil, bad("arp_ip_target %s is listed twice", a)
			}
			o.ARPIPTargets = append(o.ARPIPTargets, a)
		}
	}
	if v.IsSet("arp_validate") {
		av, _ := bondlink.ParseARPValidate(v.String("arp_validate"))
		o.ARPValidate = &av
	}
	if v.IsSet("arp_all_targets") {
		at, _ := bondlink.ParseARPAllTargets(v.String("arp_all_targets"))
		o.ARPAllTargets = &at
	}
	switch {
	case arp && len(o.ARPIPTargets) == 0:
		return nil, bad("arp_interval %d needs arp_ip_target", *o.ARPInterval)
	case !arp && len(o.ARPIPTargets) > 0:
		return nil, bad("arp_ip_target needs arp_interval")
	case !arp && o.ARPValidate != nil && *o.ARPValidate != bondlink.ValidateNone:
		return nil, bad("arp_validate %s needs arp_interval", *o.ARPValidate)
	case !arp && o.ARPValidate != nil && !mode.UsesARPMonitor():
		return nil, bad("arp_validate is not supported in mode %s", mode)
	case !arp && o.ARPAllTargets != nil:
		return nil, bad("arp_all_targets needs arp_interval")
	}
	if arp && (o.ARPValidate == nil || *o.ARPValidate == bondlink.ValidateNone) {
		warn("arp_interval without arp_validate: any frame counts as a reply, so a path failure may go unnoticed")
	}

	// Primary.
	if p := strings.TrimSpace(v.String("primary")); p != "" {
		switch {
		case !mode.UsesPrimary():
			return nil, bad("primary is not supported in mode %s (only active-backup, balance-tlb, balance-alb)", mode)
		case !seen[p]:
			return nil, bad("primary %s is not one of slaves (%s)", p, strings.Join(c.Slaves, " "))
		}
		o.Primary = &p
	}
	if v.IsSet("primary_reselect") {
		pr, _ := bondlink.ParsePrimaryReselect(v.String("primary_reselect"))
		o.PrimaryReselect = &pr
		if o.Primary == nil {
			warn("primary_reselect %s has no effect without primary", pr)
		}
	}

	if v.IsSet("fail_over_mac") {
		f, _ := bondlink.ParseFailOverMAC(v.String("fail_over_mac"))
		o.FailOverMAC = &f
		if mode != bondlink.ActiveBackup && f != bondlink.FailOverMACNone {
			warn("fail_over_mac %s has no effect in mode %s", f, mode)
		}
	}
	if v.IsSet("xmit_hash_policy") {
		x, _ := bondlink.ParseXmitHashPolicy(v.String("xmit_hash_policy"))
		o.XmitHashPolicy = &x
		if !mode.UsesHash() {
			warn("xmit_hash_policy %s has no effect in mode %s", x, mode)
		}
	}

	// 802.3ad.
	if v.IsSet("lacp_rate") {
		if mode != bondlink.LACP {
			return nil, bad("lacp_rate is for mode 802.3ad, not %s", mode)
		}
		r, _ := bondlink.ParseLACPRate(v.String("lacp_rate"))
		o.LACPRate = &r
	}
	if v.IsSet("ad_select") {
		if mode != bondlink.LACP {
			return nil, bad("ad_select is for mode 802.3ad, not %s", mode)
		}
		s, _ := bondlink.ParseADSelect(v.String("ad_select"))
		o.ADSelect = &s
	}
	if o.MinLinks = intOpt("min_links"); o.MinLinks != nil {
		if *o.MinLinks > len(c.Slaves) {
			return nil, bad("min_links %d is more than the %d slaves: the bond would never have carrier", *o.MinLinks, len(c.Slaves))
		}
		if mode != bondlink.LACP && *o.MinLinks > 0 {
			warn("min_links %d has no effect in mode %s", *o.MinLinks, mode)
		}
	}

	// Peer notification: two names, one kernel setting.
	ga, na := intOpt("num_grat_arp"), intOpt("num_unsol_na")
	switch {
	case ga != nil && na != nil && *ga != *na:
		return nil, bad("num_grat_arp %d and num_unsol_na %d are one kernel setting: give one value", *ga, *na)
	case ga != nil:
		o.NumPeerNotif = ga
	default:
		o.NumPeerNotif = na
	}
	o.AllSlavesActive = boolOpt("all_slaves_active")
	if o.PacketsPerSlave = intOpt("packets_per_slave"); o.PacketsPerSlave != nil && mode != bondlink.BalanceRR {
		return nil, bad("packets_per_slave is for mode balance-rr, not %s", mode)
	}
	if o.TLBDynamicLB = boolOpt("tlb_dynamic_lb"); o.TLBDynamicLB != nil && mode != bondlink.BalanceTLB && mode != bondlink.BalanceALB {
		return nil, bad("tlb_dynamic_lb is for modes balance-tlb and balance-alb, not %s", mode)
	}

	// The bond's own link.
	if v.IsSet("mtu") {
		o.MTU = int(v.Int("mtu"))
	}
	if s := strings.TrimSpace(v.String("mac")); s != "" {
		mac, err := net.ParseMAC(s)
		if err != nil || len(mac) != 6 {
			return nil, bad("mac %q is not an Ethernet MAC address", s)
		}
		if mac[0]&1 != 0 || mac.String() == "00:00:00:00:00:00" {
			return nil, bad("mac %s is not a unicast address", mac)
		}
		o.MAC = mac
	}

	c.MinActive = len(c.Slaves)
	if v.IsSet("min_active_slaves") {
		c.MinActive = int(v.Int("min_active_slaves"))
		if c.MinActive > len(c.Slaves) {
			return nil, bad("min_active_slaves %d is more than the %d slaves", c.MinActive, len(c.Slaves))
		}
	}
	c.Adopt = v.Bool("adopt")
	return c, nil
}

// String describes the configuration for logs.
func (c *Config) String() string {
	return fmt.Sprintf("%s slaves=%s %s", c.Name, strings.Join(c.Slaves, ","), c.Options.String())
}
