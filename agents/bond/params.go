package bond

import (
	"strconv"
	"time"

	bondlink "github.com/hanet/hanet/pkg/bond"
	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/version"
)

// choices returns a Select's choices (the kernel's value names) and the
// aliases that accept the kernel's numbers for them.
func choices(option string) ([]string, map[string]string) {
	names := bondlink.Choices[option]
	aliases := make(map[string]string, len(names))
	for i, n := range names {
		aliases[strconv.Itoa(i)] = n
	}
	return names, aliases
}

var (
	modeChoices, modeAliases                       = choices("mode")
	arpValidateChoices, arpValidateAliases         = choices("arp_validate")
	arpAllTargetsChoices, arpAllTargetsAliases     = choices("arp_all_targets")
	primaryReselectChoices, primaryReselectAliases = choices("primary_reselect")
	failOverMACChoices, failOverMACAliases         = choices("fail_over_mac")
	xmitHashChoices, xmitHashAliases               = choices("xmit_hash_policy")
	lacpRateChoices, lacpRateAliases               = choices("lacp_rate")
	adSelectChoices, adSelectAliases               = choices("ad_select")
)

// Params is the bond parameter table. Bonding options carry the kernel's
// names and units (Documentation/networking/bonding.rst), so a
// BONDING_OPTS="mode=802.3ad miimon=100 lacp_rate=fast" line maps one to
// one; an unset option keeps the kernel's default. Reloadable ones are those
// the kernel changes on a live bond without dropping traffic.
var Params = []ocf.Param{
	{Name: "name", Type: ocf.String, Required: true, Unique: true,
		Short: "Bond interface name",
		Long: "The bond to create, e.g. bond0: at most 15 bytes, no '/', ':' or spaces, and not " +
			"bonding_masters."},
	{Name: "slaves", Type: ocf.List, Required: true,
		Short: "Ports of the bond, in order",
		Long: "The interfaces to enslave, in this order (the first gives the bond its MAC unless mac is " +
			"set). Each must exist on the node and have no master (a port of a bridge or of another " +
			"bond is refused, never taken over). Their administrative state, MTU and MAC are recorded " +
			"at start and restored at stop."},
	{Name: "mode", Type: ocf.Select, Default: "active-backup", Choices: modeChoices, Aliases: modeAliases,
		Short: "Bonding mode",
		Long: "The bonding mode, by name or kernel number (0-6). The default is active-backup, which " +
			"works with any switch (the kernel's own default is balance-rr)."},
	{Name: "miimon", Type: ocf.Integer, Min: ocf.Int64(0), Reloadable: true,
		Short: "MII link monitoring interval (ms)",
		Long: "How often (ms) the bond checks each port's carrier. When neither miimon nor arp_interval " +
			"is set, 100. 0 disables MII monitoring; it excludes arp_interval."},
	{Name: "updelay", Type: ocf.Integer, Min: ocf.Int64(0), Reloadable: true,
		Short: "Delay before using a port whose link came up (ms)",
		Long:  "A multiple of miimon; needs miimon."},
	{Name: "downdelay", Type: ocf.Integer, Min: ocf.Int64(0), Reloadable: true,
		Short: "Delay before dropping a port whose link went down (ms)",
		Long:  "A multiple of miimon; needs miimon."},
	{Name: "use_carrier", Type: ocf.Boolean, Reloadable: true,
		Short: "MII monitor reads the carrier (not MII ioctls)",
		Long:  "The kernel's use_carrier (default 1)."},
	{Name: "arp_interval", Type: ocf.Integer, Min: ocf.Int64(0), Reloadable: true,
		Short: "ARP link monitoring interval (ms)",
		Long: "How often (ms) the bond sends ARP probes to arp_ip_target to check the path beyond the " +
			"link. Needs arp_ip_target; excludes miimon; not in 802.3ad, balance-tlb or balance-alb."},
	{Name: "arp_ip_target", Type: ocf.List, Reloadable: true,
		Short: "ARP monitor targets",
		Long:  "Up to 16 IPv4 addresses the ARP monitor probes. Needs arp_interval."},
	{Name: "arp_validate", Type: ocf.Select, Choices: arpValidateChoices, Aliases: arpValidateAliases, Reloadable: true,
		Short: "Which ARP replies prove a port alive",
		Long: "Without validation any frame counts as life, so a path failure behind a switch (or a " +
			"bridge flooding the bond's own frames back) goes unnoticed: use all. Needs arp_interval."},
	{Name: "arp_all_targets", Type: ocf.Select, Choices: arpAllTargetsChoices, Aliases: arpAllTargetsAliases, Reloadable: true,
		Short: "A port is up when any or all targets answer",
		Long:  "Needs arp_interval."},
	{Name: "primary", Type: ocf.String, Reloadable: true,
		Short: "Preferred port",
		Long: "The port to use whenever it is up; one of slaves. Only in active-backup, balance-tlb and " +
			"balance-alb."},
	{Name: "primary_reselect", Type: ocf.Select, Choices: primaryReselectChoices, Aliases: primaryReselectAliases, Reloadable: true,
		Short: "When the primary takes over again",
		Long:  "always, better (faster link) or failure (only when the active port fails)."},
	{Name: "fail_over_mac", Type: ocf.Select, Choices: failOverMACChoices, Aliases: failOverMACAliases,
		Short: "MAC handling on failover (active-backup)",
		Long:  "none gives all ports the bond's MAC; active and follow keep per-port MACs."},
	{Name: "xmit_hash_policy", Type: ocf.Select, Choices: xmitHashChoices, Aliases: xmitHashAliases, Reloadable: true,
		Short: "Transmit hash (balance-xor, 802.3ad, balance-tlb, balance-alb)",
		Long:  "How flows are spread over the ports."},
	{Name: "lacp_rate", Type: ocf.Select, Choices: lacpRateChoices, Aliases: lacpRateAliases,
		Short: "LACPDU rate asked of the partner (802.3ad)",
		Long:  "fast (every second) detects a silent partner in 3 s, slow in 90 s. 802.3ad only."},
	{Name: "ad_select", Type: ocf.Select, Choices: adSelectChoices, Aliases: adSelectAliases,
		Short: "Aggregator selection (802.3ad)",
		Long:  "802.3ad only."},
	{Name: "min_links", Type: ocf.Integer, Min: ocf.Int64(0), Reloadable: true,
		Short: "Ports needed for carrier (802.3ad)",
		Long:  "The bond has carrier only with at least this many ports in the active aggregator."},
	{Name: "num_grat_arp", Type: ocf.Integer, Min: ocf.Int64(0), Max: ocf.Int64(255), Reloadable: true,
		Short: "Peer notifications after a failover",
		Long:  "Gratuitous ARPs (and unsolicited NAs) sent after a failover; the same kernel setting as num_unsol_na."},
	{Name: "num_unsol_na", Type: ocf.Integer, Min: ocf.Int64(0), Max: ocf.Int64(255), Reloadable: true,
		Short: "Peer notifications after a failover",
		Long:  "The same kernel setting as num_grat_arp; when both are set they must agree."},
	{Name: "all_slaves_active", Type: ocf.Boolean, Reloadable: true,
		Short: "Deliver frames received on inactive ports",
		Long:  "The kernel's all_slaves_active (default 0: drop duplicates on inactive ports)."},
	{Name: "packets_per_slave", Type: ocf.Integer, Min: ocf.Int64(0), Max: ocf.Int64(65535), Reloadable: true,
		Short: "Packets per port before moving on (balance-rr)",
		Long:  "balance-rr only; 0 picks a random port."},
	{Name: "tlb_dynamic_lb", Type: ocf.Boolean,
		Short: "Dynamic flow shuffling (balance-tlb, balance-alb)",
		Long:  "balance-tlb and balance-alb only."},
	{Name: "mtu", Type: ocf.Integer, Min: ocf.Int64(68), Max: ocf.Int64(65535), Reloadable: true,
		Short: "MTU of the bond and its ports",
		Long:  "When unset the bond keeps 1500. The ports' own MTU is restored at stop."},
	{Name: "mac", Type: ocf.String,
		Short: "MAC address of the bond",
		Long:  "A unicast MAC; when unset, the MAC of the first port."},
	{Name: "min_active_slaves", Type: ocf.Integer, Min: ocf.Int64(1), Reloadable: true,
		Short: "Ports up below which monitor reports degraded",
		Long: "monitor returns 0 while at least this many ports are up (in 802.3ad: carrying traffic " +
			"in the active aggregator with a partner) and 190 (degraded) below that while the bond " +
			"still has carrier. When unset, all of slaves."},
	{Name: "adopt", Type: ocf.Boolean, Default: "false", Reloadable: true,
		Short: "Adopt a bond that already exists",
		Long: "When a bond called name exists that this resource did not create: true takes it over " +
			"(probe and monitor report it, start applies the options, stop deletes it and leaves its " +
			"ports up if they were) if its mode and slaves match, and refuses otherwise; false (the default) leaves it alone: probes " +
			"and monitors report not running, start fails with exit code 1."},
}

// Spec is the bond agent's description for meta-data, flags and docs.
var Spec = ocf.Spec{
	Name:    "bond",
	Version: version.Version,
	Short:   "Linux bonding device (all modes, MII/ARP monitoring, 802.3ad)",
	Long: "Creates a Linux bond over the given ports with the kernel's bonding options, waits for " +
		"carrier (and in 802.3ad for the LACP aggregate with a partner), and restores the ports " +
		"exactly as they were on stop. monitor reports 0 when enough ports are up, 190 (degraded) " +
		"when the bond still carries traffic with ports or a LACP partner missing, or a port failed " +
		"since the previous monitor, 1 without carrier; OCF_CHECK_LEVEL 10 also reports options " +
		"that drifted from the configuration. " +
		"reload-agent changes the options the kernel accepts on a live bond without dropping traffic.",
	Params: Params,
	Actions: []ocf.ActionSpec{
		{Name: "start", Timeout: 30 * time.Second},
		{Name: "stop", Timeout: 20 * time.Second},
		{Name: "monitor", Timeout: 20 * time.Second, Interval: 10 * time.Second, Depths: true},
		{Name: "monitor", Timeout: 20 * time.Second, Interval: 60 * time.Second, Depth: 10},
		{Name: "status", Timeout: 20 * time.Second},
		{Name: "reload-agent", Timeout: 20 * time.Second},
		{Name: "meta-data", Timeout: 5 * time.Second},
		{Name: "validate-all", Timeout: 20 * time.Second},
	},
}
