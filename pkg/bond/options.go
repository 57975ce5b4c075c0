package bond

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// A Mode is a bonding mode (the kernel option mode).
type Mode uint8

// The seven bonding modes, numbered as the kernel numbers them.
const (
	BalanceRR    Mode = iota // balance-rr (0)
	ActiveBackup             // active-backup (1)
	BalanceXOR               // balance-xor (2)
	Broadcast                // broadcast (3)
	LACP                     // 802.3ad (4)
	BalanceTLB               // balance-tlb (5)
	BalanceALB               // balance-alb (6)
)

// An ARPValidate is the arp_validate option.
type ARPValidate uint8

// The arp_validate values.
const (
	ValidateNone ARPValidate = iota
	ValidateActive
	ValidateBackup
	ValidateAll
	ValidateFilter
	ValidateFilterActive
	ValidateFilterBackup
)

// An ARPAllTargets is the arp_all_targets option.
type ARPAllTargets uint8

// The arp_all_targets values.
const (
	TargetsAny ARPAllTargets = iota
	TargetsAll
)

// A PrimaryReselect is the primary_reselect option.
type PrimaryReselect uint8

// The primary_reselect values.
const (
	ReselectAlways PrimaryReselect = iota
	ReselectBetter
	ReselectFailure
)

// A FailOverMAC is the fail_over_mac option.
type FailOverMAC uint8

// The fail_over_mac values.
const (
	FailOverMACNone FailOverMAC = iota
	FailOverMACActive
	FailOverMACFollow
)

// An XmitHashPolicy is the xmit_hash_policy option.
type XmitHashPolicy uint8

// The xmit_hash_policy values.
const (
	HashLayer2 XmitHashPolicy = iota
	HashLayer34
	HashLayer23
	HashEncap23
	HashEncap34
	HashVLANSrcMAC
)

// A LACPRate is the lacp_rate option.
type LACPRate uint8

// The lacp_rate values.
const (
	LACPSlow LACPRate = iota
	LACPFast
)

// An ADSelect is the ad_select option.
type ADSelect uint8

// The ad_select values.
const (
	ADSelectStable ADSelect = iota
	ADSelectBandwidth
	ADSelectCount
)

// Choices maps each enumerated option to its value names, indexed by the
// kernel's number for the value (so mode "802.3ad" is Choices["mode"][4]).
// Sysfs shows such an option as "<name> <number>".
var Choices = map[string][]string{
	"mode":             {"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"},
	"arp_validate":     {"none", "active", "backup", "all", "filter", "filter_active", "filter_backup"},
	"arp_all_targets":  {"any", "all"},
	"primary_reselect": {"always", "better", "failure"},
	"fail_over_mac":    {"none", "active", "follow"},
	"xmit_hash_policy": {"layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"},
	"lacp_rate":        {"slow", "fast"},
	"ad_select":        {"stable", "bandwidth", "count"},
}

func enumString(option string, v uint8) string {
	if names := Choices[option]; int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", option, v)
}

// parseEnum accepts a value name or its number, as the kernel does.
func parseEnum(option, s string) (uint8, error) {
	names := Choices[option]
	s = strings.TrimSpace(s)
	for i, n := range names {
		if strings.EqualFold(n, s) {
			return uint8(i), nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(names) {
		return uint8(n), nil
	}
	return 0, fmt.Errorf("%s %q: want one of %s (or 0..%d)", option, s, strings.Join(names, ", "), len(names)-1)
}

// String returns the kernel's name of the value ("802.3ad", "layer3+4"),
// or "<option>(N)" for a number the kernel does not define; the same holds
// for the other option types below.
func (m Mode) String() string            { return enumString("mode", uint8(m)) }
func (v ARPValidate) String() string     { return enumString("arp_validate", uint8(v)) }
func (v ARPAllTargets) String() string   { return enumString("arp_all_targets", uint8(v)) }
func (v PrimaryReselect) String() string { return enumString("primary_reselect", uint8(v)) }
func (v FailOverMAC) String() string     { return enumString("fail_over_mac", uint8(v)) }
func (v XmitHashPolicy) String() string  { return enumString("xmit_hash_policy", uint8(v)) }
func (v LACPRate) String() string        { return enumString("lacp_rate", uint8(v)) }
func (v ADSelect) String() string        { return enumString("ad_select", uint8(v)) }

// ParseMode parses a mode by name ("active-backup") or number ("1").
func ParseMode(s string) (Mode, error) { v, err := parseEnum("mode", s); return Mode(v), err }

// ParseARPValidate parses arp_validate by name or number.
func ParseARPValidate(s string) (ARPValidate, error) {
	v, err := parseEnum("arp_validate", s)
	return ARPValidate(v), err
}

// ParseARPAllTargets parses arp_all_targets by name or number.
func ParseARPAllTargets(s string) (ARPAllTargets, error) {
	v, err := parseEnum("arp_all_targets", s)
	return ARPAllTargets(v), err
}

// ParsePrimaryReselect parses primary_reselect by name or number.
func ParsePrimaryReselect(s string) (PrimaryReselect, error) {
	v, err := parseEnum("primary_reselect", s)
	return PrimaryReselect(v), err
}

// ParseFailOverMAC parses fail_over_mac by name or number.
func ParseFailOverMAC(s string) (FailOverMAC, error) {
	v, err := parseEnum("fail_over_mac", s)
	return FailOverMAC(v), err
}

// ParseXmitHashPolicy parses xmit_hash_policy by name or number.
func ParseXmitHashPolicy(s string) (XmitHashPolicy, error) {
	v, err := parseEnum("xmit_hash_policy", s)
	return XmitHashPolicy(v), err
}

// ParseLACPRate parses lacp_rate by name or number.
func ParseLACPRate(s string) (LACPRate, error) {
	v, err := parseEnum("lacp_rate", s)
	return LACPRate(v), err
}

// ParseADSelect parses ad_select by name or number.
func ParseADSelect(s string) (ADSelect, error) {
	v, err := parseEnum("ad_select", s)
	return ADSelect(v), err
}

// UsesPrimary reports whether mode has a primary slave (active-backup,
// balance-tlb, balance-alb); the kernel refuses primary in other modes.
func (m Mode) UsesPrimary() bool {
	return m == ActiveBackup || m == BalanceTLB || m == BalanceALB
}

// UsesARPMonitor reports whether mode accepts the ARP monitor
// (arp_interval, arp_validate); 802.3ad, balance-tlb and balance-alb do not.
func (m Mode) UsesARPMonitor() bool {
	return m != LACP && m != BalanceTLB && m != BalanceALB
}

// UsesHash reports whether mode spreads traffic with xmit_hash_policy
// (balance-xor, 802.3ad, balance-tlb with tlb_dynamic_lb 0, balance-alb).
func (m Mode) UsesHash() bool {
	return m == BalanceXOR || m == LACP || m == BalanceTLB || m == BalanceALB
}

// Options are a bond's options under their kernel names. A nil pointer (a
// nil slice for ARPIPTargets) leaves the option alone: Create keeps the
// kernel default, Change keeps the live value. Durations are in
// milliseconds, as the kernel takes them.
type Options struct {
	Mode            Mode
	Miimon          *int             // miimon
	UpDelay         *int             // updelay (a multiple of miimon)
	DownDelay       *int             // downdelay (a multiple of miimon)
	UseCarrier      *bool            // use_carrier
	ARPInterval     *int             // arp_interval
	ARPIPTargets    []netip.Addr     // arp_ip_target; non-nil and empty clears the list
	ARPValidate     *ARPValidate     // arp_validate
	ARPAllTargets   *ARPAllTargets   // arp_all_targets
	Primary         *string          // primary, a slave name; "" clears it
	PrimaryReselect *PrimaryReselect // primary_reselect
	FailOverMAC     *FailOverMAC     // fail_over_mac
	XmitHashPolicy  *XmitHashPolicy  // xmit_hash_policy
	LACPRate        *LACPRate        // lacp_rate
	ADSelect        *ADSelect        // ad_select
	MinLinks        *int             // min_links
	NumPeerNotif    *int             // num_grat_arp and num_unsol_na (one kernel setting)
	AllSlavesActive *bool            // all_slaves_active
	PacketsPerSlave *int             // packets_per_slave
	TLBDynamicLB    *bool            // tlb_dynamic_lb

	// Link attributes of the bond itself, 0 or nil for the kernel's choice
	// (MTU 1500; the MAC of the first slave).
	MTU int
	MAC net.HardwareAddr
}

// Ptr returns a pointer to v, for the Options fields.
func Ptr[T any](v T) *T { return &v }

// A Change is one difference between two Options: the kernel option name,
// the value live and the value wanted, both as the kernel spells them.
type Change struct {
	Option     string
	Live, Want string
	// Live is false when the kernel refuses this change on a bond that is
	// up or has slaves (mode, fail_over_mac, lacp_rate, ad_select,
	// tlb_dynamic_lb, the MAC): it needs a new bond.
	Reloadable bool
}

func (c Change) String() string {
	live := c.Live
	if live == "" {
		live = `""`
	}
	return fmt.Sprintf("%s is %s, configured %s", c.Option, live, c.Want)
}

// field describes one option of Options for Diff and Drift, in the order
// the kernel's bond_changelink applies them.
type field struct {
	name string
	live bool // changeable on a live bond with slaves
	get  func(*Options) (string, bool)
	set  func(dst, src *Options)
}

func intField(name string, live bool, p func(*Options) **int) field {
	return field{name, live,
		func(o *Options) (string, bool) {
			if v := *p(o); v != nil {
				return strconv.Itoa(*v), true
			}
			return "", false
		},
		func(dst, src *Options) { *p(dst) = *p(src) }}
}

func boolField(name string, live bool, p func(*Options) **bool) field {
	return field{name, live,
		func(o *Options) (string, bool) {
			if v := *p(o); v != nil {
				if *v {
					return "1", true
				}
				return "0", true
			}
			return "", false
		},
		func(dst, src *Options) { *p(dst) = *p(src) }}
}

func enumField[T fmt.Stringer](name string, live bool, p func(*Options) **T) field {
	return field{name, live,
		func(o *Options) (string, bool) {
			if v := *p(o); v != nil {
				return (*v).String(), true
			}
			return "", false
		},
		func(dst, src *Options) { *p(dst) = *p(src) }}
}

// fields lists the options in bond_changelink's order (Linux 6.1).
var fields = []field{
	{"mode", false,
		func(o *Options) (string, bool) { return o.Mode.String(), true },
		func(dst, src *Options) { dst.Mode = src.Mode }},
	intField("miimon", true, func(o *Options) **int { return &o.Miimon }),
	intField("updelay", true, func(o *Options) **int { return &o.UpDelay }),
	intField("downdelay", true, func(o *Options) **int { return &o.DownDelay }),
	boolField("use_carrier", true, func(o *Options) **bool { return &o.UseCarrier }),
	intField("arp_interval", true, func(o *Options) **int { return &o.ARPInterval }),
	{"arp_ip_target", true,
		func(o *Options) (string, bool) {
			if o.ARPIPTargets == nil {
				return "", false
			}
			return targetsString(o.ARPIPTargets), true
		},
		func(dst, src *Options) { dst.ARPIPTargets = src.ARPIPTargets }},
	enumField("arp_validate", true, func(o *Options) **ARPValidate { return &o.ARPValidate }),
	enumField("arp_all_targets", true, func(o *Options) **ARPAllTargets { return &o.ARPAllTargets }),
	{"primary", true,
		func(o *Options) (string, bool) {
			if o.Primary == nil {
				return "", false
			}
			return *o.Primary, true
		},
		func(dst, src *Options) { dst.Primary = src.Primary }},
	enumField("primary_reselect", true, func(o *Options) **PrimaryReselect { return &o.PrimaryReselect }),
	enumField("fail_over_mac", false, func(o *Options) **FailOverMAC { return &o.FailOverMAC }),
	enumField("xmit_hash_policy", true, func(o *Options) **XmitHashPolicy { return &o.XmitHashPolicy }),
	intField("num_grat_arp", true, func(o *Options) **int { return &o.NumPeerNotif }),
	boolField("all_slaves_active", true, func(o *Options) **bool { return &o.AllSlavesActive }),
	intField("min_links", true, func(o *Options) **int { return &o.MinLinks }),
	intField("packets_per_slave", true, func(o *Options) **int { return &o.PacketsPerSlave }),
	enumField("lacp_rate", false, func(o *Options) **LACPRate { return &o.LACPRate }),
	enumField("ad_select", false, func(o *Options) **ADSelect { return &o.ADSelect }),
	boolField("tlb_dynamic_lb", false, func(o *Options) **bool { return &o.TLBDynamicLB }),
	{"mtu", true,
		func(o *Options) (string, bool) {
			if o.MTU <= 0 {
				return "", false
			}
			return strconv.Itoa(o.MTU), true
		},
		func(dst, src *Options) { dst.MTU = src.MTU }},
	{"mac", false,
		func(o *Options) (string, bool) {
			if len(o.MAC) == 0 {
				return "", false
			}
			return o.MAC.String(), true
		},
		func(dst, src *Options) { dst.MAC = src.MAC }},
}

// OptionNames returns the names Diff and Changes use, in the order the
// kernel applies the options (mode first, miimon before updelay and
// downdelay, arp_interval before arp_ip_target and arp_validate).
func OptionNames() []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

func targetsString(ts []netip.Addr) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

// Diff compares the options set in want with live (a bond's Status.Options)
// and returns every difference, in the kernel's order. Options want leaves
// unset are not compared.
func Diff(live, want *Options) []Change {
	var out []Change
	for _, f := range fields {
		w, ok := f.get(want)
		if !ok {
			continue
		}
		l, _ := f.get(live)
		if l != w {
			out = append(out, Change{Option: f.name, Live: l, Want: w, Reloadable: f.live})
		}
	}
	return out
}

// Changes returns the Options that Change must send to turn live into want
// for the reloadable differences in changes (from Diff), and the names of
// those it cannot apply on a live bond. Because the kernel keeps updelay
// and downdelay as multiples of miimon, a new miimon resends both, so they
// keep their milliseconds.
func Changes(live, want *Options, changes []Change) (send *Options, fixed []string) {
	send = &Options{Mode: live.Mode}
	byName := map[string]field{}
	for _, f := range fields {
		byName[f.name] = f
	}
	for _, c := range changes {
		if !c.Reloadable {
			fixed = append(fixed, c.Option)
			continue
		}
		byName[c.Option].set(send, want)
	}
	if send.Miimon != nil {
		for _, p := range []struct{ send, want, live **int }{
			{&send.UpDelay, &want.UpDelay, &live.UpDelay},
			{&send.DownDelay, &want.DownDelay, &live.DownDelay},
		} {
			if *p.send == nil {
				if *p.want != nil {
					*p.send = *p.want
				} else if *p.live != nil {
					*p.send = *p.live
				}
			}
		}
	}
	return send, fixed
}

// Defaults returns the options of a bond in mode created without any
// (Linux 6.1 bonding defaults): miimon 0, use_carrier 1, arp_validate none,
// arp_all_targets any, no primary, primary_reselect always, fail_over_mac
// none, xmit_hash_policy layer2, lacp_rate slow, ad_select stable,
// num_grat_arp 1, packets_per_slave 1, tlb_dynamic_lb 1, MTU 1500, zero
// elsewhere. lacp_rate and ad_select are left unset outside 802.3ad, where
// the kernel refuses them.
func Defaults(mode Mode) *Options {
	o := &Options{
		Mode:            mode,
		Miimon:          Ptr(0),
		UpDelay:         Ptr(0),
		DownDelay:       Ptr(0),
		UseCarrier:      Ptr(true),
		ARPInterval:     Ptr(0),
		ARPIPTargets:    []netip.Addr{},
		ARPValidate:     Ptr(ValidateNone),
		ARPAllTargets:   Ptr(TargetsAny),
		Primary:         Ptr(""),
		PrimaryReselect: Ptr(ReselectAlways),
		FailOverMAC:     Ptr(FailOverMACNone),
		XmitHashPolicy:  Ptr(HashLayer2),
		MinLinks:        Ptr(0),
		NumPeerNotif:    Ptr(1),
		AllSlavesActive: Ptr(false),
		PacketsPerSlave: Ptr(1),
		TLBDynamicLB:    Ptr(true),
		MTU:             1500,
	}
	if mode == LACP {
		o.LACPRate = Ptr(LACPSlow)
		o.ADSelect = Ptr(ADSelectStable)
	}
	return o
}

// SetNames returns the names of the options set in o (mode included), in
// the kernel's order.
func (o *Options) SetNames() []string {
	var names []string
	for _, f := range fields {
		if _, ok := f.get(o); ok {
			names = append(names, f.name)
		}
	}
	return names
}

// Fill sets every option named in names that o leaves unset to its value in
// src (mode is never changed). It returns the names it filled.
func (o *Options) Fill(src *Options, names []string) []string {
	var filled []string
	for _, f := range fields[1:] {
		if !slices.Contains(names, f.name) {
			continue
		}
		if _, ok := f.get(o); ok {
			continue
		}
		if _, ok := f.get(src); ok {
			f.set(o, src)
			filled = append(filled, f.name)
		}
	}
	return filled
}

// Empty reports whether o changes nothing besides the mode.
func (o *Options) Empty() bool {
	for _, f := range fields[1:] {
		if _, ok := f.get(o); ok {
			return false
		}
	}
	return true
}

// String lists the set options as "name=value" in the kernel's order, like
// the ip-link arguments that create the bond.
func (o *Options) String() string {
	var parts []string
	for _, f := range fields {
		if v, ok := f.get(o); ok {
			parts = append(parts, f.name+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
