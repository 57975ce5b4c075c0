package bond

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hanet/hanet/pkg/netif"
)

// SysfsRoot is where the kernel lists the network interfaces of the
// namespace that mounted sysfs.
const SysfsRoot = "/sys/class/net"

// ErrBadAttr is wrapped by the errors of SysfsPath for an attribute name
// that is not a plain sysfs file name.
var ErrBadAttr = errors.New("invalid sysfs attribute name")

// SysfsPath returns root/<iface>/<dir>/<attr>, where dir is "bonding" (the
// bond's options and 802.3ad state) or "bonding_slave" (a port's state).
// iface must pass netif.ValidName and attr must be made of lower-case
// letters, digits and '_', so the path stays inside root/<iface>.
func SysfsPath(root, iface, dir, attr string) (string, error) {
	if err := netif.ValidName(iface); err != nil {
		return "", err
	}
	if dir != "bonding" && dir != "bonding_slave" {
		return "", fmt.Errorf("sysfs directory %q: want bonding or bonding_slave: %w", dir, ErrBadAttr)
	}
	if attr == "" || strings.IndexFunc(attr, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}) >= 0 {
		return "", fmt.Errorf("sysfs attribute %q: %w", attr, ErrBadAttr)
	}
	return filepath.Join(root, iface, dir, attr), nil
}

// readAttr reads one sysfs attribute, trimmed. Equivalent to:
// cat /sys/class/net/$iface/$dir/$attr
func readAttr(root, iface, dir, attr string) (string, error) {
	p, err := SysfsPath(root, iface, dir, attr)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ADInfo is a bond's 802.3ad state from sysfs (netlink's Bond.AdInfo is
// never filled by vishvananda/netlink v1.3.1).
type ADInfo struct {
	Aggregator int              // ad_aggregator: id of the active aggregator
	NumPorts   int              // ad_num_ports: ports in it
	ActorKey   int              // ad_actor_key
	PartnerKey int              // ad_partner_key
	PartnerMAC net.HardwareAddr // ad_partner_mac; all zero without a partner
}

// HasPartner reports whether the active aggregator has a LACP partner
// (a non-zero ad_partner_mac).
func (a *ADInfo) HasPartner() bool {
	for _, b := range a.PartnerMAC {
		if b != 0 {
			return true
		}
	}
	return false
}

// readADInfo reads /sys/class/net/<bond>/bonding/ad_*. Reading the keys and
// the partner needs CAP_NET_ADMIN; without it they stay zero.
func readADInfo(root, bond string) (*ADInfo, error) {
	var ad ADInfo
	num := func(attr string, dst *int) error {
		s, err := readAttr(root, bond, "bonding", attr)
		if err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%s/bonding/%s: %q is not a number", bond, attr, s)
		}
		*dst = n
		return nil
	}
	if err := num("ad_aggregator", &ad.Aggregator); err != nil {
		return nil, err
	}
	if err := num("ad_num_ports", &ad.NumPorts); err != nil {
		return nil, err
	}
	_ = num("ad_actor_key", &ad.ActorKey)
	_ = num("ad_partner_key", &ad.PartnerKey)
	if s, err := readAttr(root, bond, "bonding", "ad_partner_mac"); err == nil && s != "" {
		if mac, err := net.ParseMAC(s); err == nil {
			ad.PartnerMAC = mac
		}
	}
	return &ad, nil
}
