package vip

import (
	"time"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/version"
)

// Params is the vip parameter table: IPaddr2's names and meanings, so a
// resource moves from ocf:heartbeat:IPaddr2 to ocf:hanet:vip by changing
// its type alone.
var Params = []ocf.Param{
	{Name: "ip", Type: ocf.String, Required: true, Unique: true,
		Short: "IPv4 or IPv6 address",
		Long: "The virtual IP address to take over, IPv4 (192.0.2.10) or IPv6 in any spelling " +
			"(2001:db8::10). A link-local IPv6 address needs nic."},
	{Name: "nic", Type: ocf.String,
		Short: "Network interface",
		Long: "The interface to put the address on (a NIC, a bond, a bridge, a VLAN). When unset, " +
			"it is the interface of the most specific route containing ip (longest prefix, then " +
			"lowest metric; unreachable, blackhole and prohibit routes ignored), so nodes may name " +
			"their interfaces differently. The deprecated form nic:label sets iflabel."},
	{Name: "cidr_netmask", Type: ocf.String,
		Short: "Prefix length",
		Long: "The prefix length of the address (24, 64), or an IPv4 dotted netmask (255.255.255.0). " +
			"When unset, the prefix of the route that selected the interface."},
	{Name: "netmask", Type: ocf.String,
		Short: "Deprecated alias of cidr_netmask",
		Long:  "Deprecated alias of cidr_netmask, accepted as IPaddr2 does."},
	{Name: "broadcast", Type: ocf.String,
		Short: "IPv4 broadcast address",
		Long: "The IPv4 broadcast address. When unset ('+' and '-' too) it is computed from the prefix, " +
			"even when the interface has no other address. Ignored for IPv6 and for /31 and /32."},
	{Name: "iflabel", Type: ocf.String,
		Short: "Interface label",
		Long: "An IPv4 address label: the address shows as nic:iflabel in 'ip addr' (15 bytes at most " +
			"in all). Ignored for IPv6, which has no labels."},
	{Name: "arp_count", Type: ocf.Integer, Default: "5", Min: ocf.Int64(0), Max: ocf.Int64(1000), Reloadable: true,
		Short: "Gratuitous ARP rounds on start",
		Long: "How many rounds of gratuitous ARP (an ARP request with target MAC zero, then an ARP " +
			"reply with target MAC = sender MAC, both Ethernet broadcast) or, for IPv6, unsolicited " +
			"neighbour advertisements to send after the address is up. Start first waits, within its " +
			"timeout, for the interface to have carrier (a bond, an active slave). 0 sends none."},
	{Name: "arp_interval", Type: ocf.Duration, Default: "200", Unit: time.Millisecond, Reloadable: true,
		Short: "Time between gratuitous ARP rounds",
		Long: "The time between two rounds (a bare number counts in milliseconds, as in IPaddr2); the " +
			"request and the reply of a round are half of it apart."},
	{Name: "arp_count_refresh", Type: ocf.Integer, Default: "0", Min: ocf.Int64(0), Max: ocf.Int64(1000), Reloadable: true,
		Short: "Gratuitous ARP rounds per monitor",
		Long: "Rounds of gratuitous ARP / unsolicited NA sent on every recurring monitor, to repair " +
			"neighbour caches that went stale after a split brain. 0 sends none."},
	{Name: "arp_bg", Type: ocf.Boolean, Default: "true", Reloadable: true,
		Short: "Send the ARP burst in the background",
		Long: "When true, start returns after the first round (request and reply) and a detached child " +
			"sends the rest in the same rhythm; stop ends it, and the next monitor logs its send " +
			"errors. When false, start returns after the whole burst (what fits in its timeout)."},
	{Name: "run_arping", Type: ocf.Boolean, Default: "false", Reloadable: true,
		Short: "Refuse an IPv4 address in use elsewhere",
		Long: "Before adding an IPv4 address, send RFC 5227 ARP probes for about a second; if another " +
			"host answers, start fails (exit 1) and names that host's MAC. IPv6 always runs duplicate " +
			"address detection unless nodad is set."},
	{Name: "preferred_lft", Type: ocf.String, Default: "forever",
		Short: "Preferred lifetime",
		Long: "The address's preferred lifetime in seconds, or 'forever'. 0 marks it deprecated so the " +
			"kernel does not pick it as a source address (useful for IPv6 VIPs)."},
	{Name: "nodad", Type: ocf.Boolean, Default: "false",
		Short: "Skip IPv6 duplicate address detection",
		Long:  "Add the IPv6 address without duplicate address detection (IFA_F_NODAD)."},
	{Name: "noprefixroute", Type: ocf.Boolean, Default: "false",
		Short: "Add no prefix route",
		Long:  "Add the address without the route to its subnet (IFA_F_NOPREFIXROUTE)."},
	{Name: "flush_routes", Type: ocf.Boolean, Default: "false",
		Short: "Flush the route cache on stop",
		Long: "Flush the kernel's route cache after removing the address, so local applications stop " +
			"using the address at once (as 'ip route flush cache')."},
	{Name: "check_link_status", Type: ocf.Boolean, Default: "true", Reloadable: true,
		Short: "Monitor the link under the address",
		Long: "When true, monitor reports the VIP as not running (7) when its interface is down or has " +
			"no carrier, so Pacemaker recovers it elsewhere."},
	{Name: "carrier_timeout", Type: ocf.Duration, Default: "5s", Reloadable: true,
		Short: "How long start waits for carrier",
		Long: "How long start waits for the interface to have carrier (on a bond: an active slave) " +
			"before it fails, so a node with a dead link hands the address to another node quickly " +
			"instead of spending the whole start timeout."},
	{Name: "network_namespace", Type: ocf.String, Ignored: true,
		Short: "Not supported",
		Long:  "IPaddr2's network namespace option. hanet does not support it: run the cluster node in the namespace."},
	{Name: "lvs_support", Type: ocf.Boolean, Ignored: true, Short: "Not supported (IPaddr2 LVS-DR)"},
	{Name: "lvs_ipv6_addrlabel", Type: ocf.Boolean, Ignored: true, Short: "Not supported (IPaddr2 LVS)"},
	{Name: "lvs_ipv6_addrlabel_value", Type: ocf.Integer, Ignored: true, Short: "Not supported (IPaddr2 LVS)"},
	{Name: "mac", Type: ocf.String, Ignored: true, Short: "Not supported (IPaddr2 CLUSTERIP)"},
	{Name: "clusterip_hash", Type: ocf.String, Ignored: true, Short: "Not supported (IPaddr2 CLUSTERIP)"},
	{Name: "unique_clone_address", Type: ocf.Boolean, Ignored: true, Short: "Not supported (IPaddr2 CLUSTERIP)"},
	{Name: "arp_sender", Type: ocf.String, Ignored: true, Short: "Not used: hanet sends ARP itself"},
	{Name: "send_arp_opts", Type: ocf.String, Ignored: true, Short: "Not used: hanet sends ARP itself"},
}

// Spec is the vip agent's description for meta-data, flags and docs.
var Spec = ocf.Spec{
	Name:    "vip",
	Version: version.Version,
	Short:   "Virtual IPv4/IPv6 address with gratuitous ARP / unsolicited NA",
	Long: "Takes over an IPv4 or IPv6 address on a NIC or bond, announces it with gratuitous ARP " +
		"(request and reply forms) or unsolicited neighbour advertisements, waits for IPv6 " +
		"duplicate address detection, and reports the address as stopped when its link goes down. " +
		"It accepts IPaddr2's parameter names. OCF_CHECK_LEVEL 10 on monitor also checks that no " +
		"other host answers for the address.",
	Params: Params,
	Actions: []ocf.ActionSpec{
		{Name: "start", Timeout: 20 * time.Second},
		{Name: "stop", Timeout: 20 * time.Second},
		{Name: "monitor", Timeout: 20 * time.Second, Interval: 10 * time.Second, Depths: true},
		{Name: "status", Timeout: 20 * time.Second},
		{Name: "reload-agent", Timeout: 20 * time.Second},
		{Name: "meta-data", Timeout: 5 * time.Second},
		{Name: "validate-all", Timeout: 20 * time.Second},
	},
}
