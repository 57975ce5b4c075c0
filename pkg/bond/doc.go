// Package bond is hanet's mechanism for Linux bonding devices: create a bond
// with its options, enslave and release ports, delete it, read its status
// and change the options the kernel accepts on a live bond. It talks
// NETLINK_ROUTE through pkg/netif and reads /sys/class/net/<bond>/bonding
// for what netlink does not carry (active_slave, the 802.3ad aggregator and
// partner). It never imports pkg/ocf: what "running" or "degraded" means
// and which failure is which exit code is the agent's business
// (agents/bond).
//
// Options are the kernel's bonding options under their kernel names
// (Documentation/networking/bonding.rst), each either set or left to the
// kernel's default. Create sends them in one RTM_NEWLINK, whose handler
// (bond_changelink) applies them in the order the kernel needs: mode first,
// miimon before updelay and downdelay, arp_interval before arp_ip_target
// and arp_validate; the bond is still down and without ports, so the
// options that demand it (mode, fail_over_mac, lacp_rate, ad_select,
// tlb_dynamic_lb) are accepted. Diff tells which options can change on a
// live bond (Change) and which need a new bond.
//
// Every sysfs path is built from an interface name checked by
// netif.ValidName (no '/', no "..", at most 15 bytes) and a fixed attribute
// name, so no parameter can point a read outside /sys/class/net.
//
// Sentinels callers branch on: ErrNoBonding (the kernel has no bonding
// driver), ErrExists, ErrNotBond, and netif.ErrLinkNotFound (wrapped).
package bond
