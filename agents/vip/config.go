package vip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hanet/hanet/pkg/netif"
	"github.com/hanet/hanet/pkg/ocf"
)

// Config is the vip resource's parsed configuration. Start, monitor, stop,
// validate-all and the background ARP sender share it.
type Config struct {
	IP              netip.Addr
	NIC             string // "" = detect from the routing table
	Prefix          int    // -1 = from the routing table
	Broadcast       netip.Addr
	Label           string // iflabel (IPv4 only)
	ARPCount        int
	ARPInterval     time.Duration
	ARPCountRefresh int
	ARPBackground   bool
	RunARPing       bool
	PreferredLft    *time.Duration // nil = forever
	NoDAD           bool
	NoPrefixRoute   bool
	FlushRoutes     bool
	CheckLinkStatus bool
	CarrierTimeout  time.Duration
}

// Is4 reports whether the address is IPv4.
func (c *Config) Is4() bool { return c.IP.Is4() }

// Bits is the address length: 32 or 128.
func (c *Config) Bits() int { return c.IP.BitLen() }

// parseConfig turns the parameter values into a Config, refusing with
// ErrConfigured only what is wrong on every node. warn receives notes about
// values that are accepted but adjusted.
func parseConfig(v *ocf.Values, warn func(string, ...any)) (*Config, error) {
	c := &Config{Prefix: -1}
	ipText := strings.TrimSpace(v.String("ip"))
	ip, err := netip.ParseAddr(ipText)
	if err != nil {
		if _, perr := netip.ParsePrefix(ipText); perr == nil {
			return nil, ocf.Errorf(ocf.ErrConfigured, "ip %q: give the address alone and the prefix length in cidr_netmask", ipText)
		}
		return nil, ocf.Errorf(ocf.ErrConfigured, "ip %q is not an IPv4 or IPv6 address", ipText)
	}
	if ip.Zone() != "" {
		return nil, ocf.Errorf(ocf.ErrConfigured, "ip %q: give the interface in nic, not as a zone", ipText)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsMulticast() || (ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return nil, ocf.Errorf(ocf.ErrConfigured, "ip %s cannot be a host address", ip)
	}
	c.IP = ip

	nic := strings.TrimSpace(v.String("nic"))
	label := strings.TrimSpace(v.String("iflabel"))
	if base, l, ok := strings.Cut(nic, ":"); ok {
		if base == "" || l == "" {
			return nil, ocf.Errorf(ocf.ErrConfigured, "nic %q: want an interface name, or the deprecated form interface:label", nic)
		}
		warn("nic=%s: the nic:label form is deprecated, use iflabel", nic)
		nic = base
		if label == "" {
			label = l
		}
	}
	if nic != "" {
		if err := netif.ValidName(nic); err != nil {
			return nil, ocf.Errorf(ocf.ErrConfigured, "nic %q: %v", nic, err)
		}
	}
	c.NIC = nic
	if ip.Is6() && ip.IsLinkLocalUnicast() && nic == "" {
		return nil, ocf.Errorf(ocf.ErrConfigured, "ip %s is link-local: nic is required", ip)
	}
	if label != "" {
		if ip.Is6() {
			warn("iflabel %q ignored: IPv6 addresses have no labels", label)
			label = ""
		} else if len(label) > 14 || strings.ContainsAny(label, "/ \t\n:") {
			return nil, ocf.Errorf(ocf.ErrConfigured, "iflabel %q: want at most 14 bytes without '/', ':' or spaces", label)
		} else if nic != "" && len(nic)+1+len(label) > 15 {
			return nil, ocf.Errorf(ocf.ErrConfigured, "label %s:%s is longer than 15 bytes", nic, label)
		}
	}
	c.Label = label

	maskParam := "cidr_netmask"
	mask := strings.TrimSpace(v.String(maskParam))
	if mask == "" {
		maskParam = "netmask"
		mask = strings.TrimSpace(v.String(maskParam))
	}
	if mask != "" {
		n, err := parsePrefix(mask, ip)
		if err != nil {
			return nil, ocf.Errorf(ocf.ErrConfigured, "%s %q: %v", maskParam, mask, err)
		}
		if strings.Contains(mask, ".") {
			warn("%s %s converted to prefix length %d", maskParam, mask, n)
		}
		c.Prefix = n
	}

	switch b := strings.TrimSpace(v.String("broadcast")); {
	case b == "" || b == "+" || b == "-":
		// computed from the prefix ("-" too: an address without broadcast
		// is no use on a LAN)
	case ip.Is6():
		warn("broadcast %s ignored for IPv6", b)
	default:
		ba, err := netip.ParseAddr(b)
		if err != nil || !ba.Is4() {
			return nil, ocf.Errorf(ocf.ErrConfigured, "broadcast %q is not an IPv4 address", b)
		}
		c.Broadcast = ba
	}

	c.ARPCount = int(v.Int("arp_count"))
	c.ARPInterval = v.Duration("arp_interval")
	if c.ARPInterval > 10*time.Second {
		return nil, ocf.Errorf(ocf.ErrConfigured, "arp_interval %s: want at most 10s", c.ARPInterval)
	}
	c.ARPCountRefresh = int(v.Int("arp_count_refresh"))
	c.ARPBackground = v.Bool("arp_bg")
	c.RunARPing = v.Bool("run_arping")
	switch lft := strings.ToLower(strings.TrimSpace(v.String("preferred_lft"))); lft {
	case "", "forever", "infinity":
	default:
		n, err := strconv.ParseUint(strings.TrimSuffix(lft, "sec"), 10, 32)
		if err != nil || n == 0xffffffff {
			return nil, ocf.Errorf(ocf.ErrConfigured, "preferred_lft %q: want seconds or 'forever'", lft)
		}
		p := time.Duration(n) * time.Second
		c.PreferredLft = &p
	}
	c.NoDAD = v.Bool("nodad")
	c.NoPrefixRoute = v.Bool("noprefixroute")
	c.FlushRoutes = v.Bool("flush_routes")
	c.CheckLinkStatus = v.Bool("check_link_status")
	c.CarrierTimeout = v.Duration("carrier_timeout")
	return c, nil
}

// parsePrefix reads a prefix length, or for IPv4 a dotted netmask, and
// checks it against the address family.
func parsePrefix(s string, ip netip.Addr) (int, error) {
	if strings.Contains(s, ".") {
		if !ip.Is4() {
			return 0, fmt.Errorf("a dotted netmask needs an IPv4 address")
		}
		m, err := netip.ParseAddr(s)
		if err != nil || !m.Is4() {
			return 0, fmt.Errorf("not a netmask")
		}
		b := m.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		n := 0
		for v&0x80000000 != 0 {
			n++
			v <<= 1
		}
		if v != 0 {
			return 0, fmt.Errorf("netmask bits are not contiguous")
		}
		return n, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "/"))
	if err != nil {
		return 0, fmt.Errorf("not a prefix length")
	}
	if n < 1 || n > ip.BitLen() {
		return 0, fmt.Errorf("want 1..%d", ip.BitLen())
	}
	return n, nil
}
