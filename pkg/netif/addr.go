package netif

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrAddrNotFound is wrapped by the errors of FindAddr, AddrDel and WaitDAD
// when the address is not configured.
var ErrAddrNotFound = errors.New("address not found")

// AddrOpts are the optional attributes AddrReplace sets on an address.
type AddrOpts struct {
	// Label is the IPv4 label suffix: the address gets label
	// "$link:$Label", which AddrLabel builds and checks. Empty: no label.
	// IPv6 has no labels; a Label with an IPv6 address is an error.
	Label string
	// Broadcast is the IPv4 broadcast address. Unset: the highest address
	// of the prefix for prefixes shorter than /31 (BroadcastOf), none for
	// /31 and /32.
	Broadcast netip.Addr
	// PreferredLft is the preferred lifetime, rounded down to seconds; nil
	// means forever. Zero makes the address deprecated at once, so the
	// kernel does not pick it as a source address. The valid lifetime is
	// always forever.
	PreferredLft *time.Duration
	// NoDAD skips IPv6 duplicate address detection (IFA_F_NODAD, ip(8)
	// "nodad"): the address is usable at once and never "dadfailed".
	NoDAD bool
	// NoPrefixRoute stops the kernel from adding the prefix route for the
	// address (IFA_F_NOPREFIXROUTE, ip(8) "noprefixroute").
	NoPrefixRoute bool
}

// AddrLabel returns the IPv4 address label "$link:$label" and checks it
// against the kernel's limit of 15 bytes (IFNAMSIZ-1). An empty label gives
// "".
func AddrLabel(link, label string) (string, error) {
	if label == "" {
		return "", nil
	}
	l := link + ":" + label
	if len(l) > MaxNameLen {
		return "", fmt.Errorf("address label %q: %d bytes, want at most %d", l, len(l), MaxNameLen)
	}
	return l, nil
}

// BroadcastOf returns the IPv4 broadcast address of prefix (all host bits
// set), or the zero Addr for IPv6 and for /31 and /32, which have none
// (RFC 3021).
func BroadcastOf(prefix netip.Prefix) netip.Addr {
	if !prefix.Addr().Is4() || prefix.Bits() >= 31 || prefix.Bits() < 0 {
		return netip.Addr{}
	}
	a := prefix.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | 0xffffffff>>prefix.Bits()
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}
