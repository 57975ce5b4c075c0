package linkhealth

import (
	"time"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/version"
)

// Params is the linkhealth parameter table. Bounds are checked in
// config.go rather than through ocf.Param.Min/Max, so that an out-of-range
// value never turns a probe into exit code 6 (see Agent.Monitor).
var Params = []ocf.Param{
	{Name: "interfaces", Type: ocf.List, Required: true,
		Short: "Interfaces to watch",
		Long: "The links whose health is published: NICs, bridges, VLANs or bonds. A bond counts as " +
			"one link: healthy when it is up and at least one of its slaves is up (a bond that lost " +
			"some slaves turns the health attribute yellow). An interface missing on this node counts " +
			"as an unhealthy link; it is not an error, so one clone configuration serves nodes that " +
			"differ."},
	{Name: "name", Type: ocf.String, Unique: true,
		Short: "Node attribute name",
		Long: "The transient node attribute to publish. Default: linkhealth-<interface> for one " +
			"interface, linkhealth-<if1>-<if2>… (the interfaces in the given order, joined by '-') for " +
			"several. Use it in rules such as 'score=-INFINITY linkhealth-eth0 lt 1' or as a " +
			"score-attribute."},
	{Name: "multiplier", Type: ocf.Integer, Default: "1", Reloadable: true,
		Short: "Value per healthy link",
		Long:  "The published value is the number of healthy links times this (1 to 1000000)."},
	{Name: "arp_targets", Type: ocf.List, Reloadable: true,
		Short: "Addresses probed beyond the switch",
		Long: "Neighbours whose answers prove a link carries traffic, written ADDRESS@INTERFACE " +
			"(192.0.2.1@eth1, 2001:db8::1@eth1, fe80::1@eth1): ARP requests for IPv4, neighbour " +
			"solicitations for IPv6, sent from the interface's own address of that family (or the " +
			"unspecified address). The interface must be one of interfaces; with a single interface " +
			"'@INTERFACE' may be left out. A link with targets is healthy while it has carrier and at " +
			"least one of its targets answers; fail_count consecutive unanswered rounds make it " +
			"unhealthy."},
	{Name: "probe_interval", Type: ocf.Duration, Default: "1s", Reloadable: true,
		Short: "Time between probe rounds",
		Long: "How often the targets are probed and a recovering link is re-checked (100ms to 1h). " +
			"Carrier changes are seen at once, from netlink events, independently of this."},
	{Name: "probe_timeout", Type: ocf.Duration, Reloadable: true,
		Short: "Time to wait for a target's answer",
		Long: "How long one probe waits for an answer (three requests are spread over it); at most " +
			"probe_interval. Default: half of probe_interval, at most 500ms."},
	{Name: "fail_count", Type: ocf.Integer, Default: "3", Reloadable: true,
		Short: "Failed probe rounds before a link is unhealthy",
		Long: "Consecutive failed probe rounds that make a healthy link unhealthy (1 to 1000). Loss of " +
			"carrier, an administratively down link or a vanished interface counts at once."},
	{Name: "recover_count", Type: ocf.Integer, Default: "5", Reloadable: true,
		Short: "Good checks before a link is healthy again",
		Long: "Consecutive successful checks (one at carrier return, then one per probe_interval) " +
			"that make an unhealthy link healthy again (1 to 1000): the hysteresis against flapping " +
			"links."},
	{Name: "dampen", Type: ocf.Duration, Default: "0", Reloadable: true,
		Short: "Attribute dampening delay",
		Long: "Passed to attrd_updater -d: attrd holds a change this long before writing it to the " +
			"CIB. 0 (the default) writes at once, so resources leave a node with a dead link within " +
			"milliseconds, before their own monitors notice and recover them in place; flapping is " +
			"already absorbed by fail_count and recover_count. Set it (ping uses 5s) when a failure " +
			"every node sees at once, such as a shared switch, should not move resources."},
	{Name: "health_attribute", Type: ocf.Boolean, Default: "false", Reloadable: true,
		Short: "Also publish #health-<name>",
		Long: "Also publish the node health attribute #health-<name> for node-health-strategy: green " +
			"when every link (and every bond slave) is up, yellow when some are down but at least " +
			"min_healthy links are healthy, red below min_healthy. Give the clone " +
			"allow-unhealthy-nodes=true."},
	{Name: "min_healthy", Type: ocf.Integer, Default: "1", Reloadable: true,
		Short: "Fewest healthy links for a healthy node",
		Long: "With fewer healthy links, monitor reports degraded (exit 190, shown in crm_mon) and the " +
			"health attribute turns red. 0 to the number of interfaces."},
}

// Spec is the linkhealth agent's description for meta-data, flags and docs.
var Spec = ocf.Spec{
	Name:    "linkhealth",
	Version: version.Version,
	Short:   "Event-driven link health published as a node attribute",
	Long: "Watches links through netlink events and optional ARP / neighbour-solicitation probes " +
		"beyond the switch, and publishes the number of healthy links (times multiplier) as a " +
		"transient node attribute through attrd_updater as soon as it changes. Run it as a clone " +
		"on every node; constrain resources with rules on the attribute. A background watcher (the " +
		"same program, in its own session) does the work; monitor checks and restarts it.",
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
