package netif

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func init() {
	// Kernel errors with their extended-ack text ("Can not enslave a bridge
	// to a bridge" rather than ELOOP). Read when a socket is created, so it
	// is set before any Handle exists.
	nl.EnableErrorMessageReporting = true
}

// dumpAttempts bounds the retries of a dump interrupted by a concurrent
// change (NLM_F_DUMP_INTR).
const dumpAttempts = 5

// ErrLinkNotFound is wrapped by the errors of lookups for an absent link.
var ErrLinkNotFound = errors.New("link not found")

// A Handle is a NETLINK_ROUTE socket bound to one network namespace: the
// caller's at Open, or a given one at OpenAt. Its methods may be called from
// several goroutines.
type Handle struct {
	nl *netlink.Handle
	// ns is a private duplicate of the namespace given to OpenAt, passed to
	// subscriptions; netns.None() after Open.
	ns netns.NsHandle
}

// Open returns a Handle in the network namespace of the calling thread.
// Subscriptions made through it (SubscribeLinks, WaitOperUp, WaitDAD) are
// opened in the namespace of the thread that calls them, which for a
// program that never switches namespaces is the same one.
func Open() (*Handle, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink route socket: %w", err)
	}
	return &Handle{nl: h, ns: netns.None()}, nil
}

// OpenAt returns a Handle in network namespace ns. The Handle keeps its own
// duplicate of ns, so the caller may close ns at any time; subscriptions
// made through the Handle are opened in ns too (which needs CAP_SYS_ADMIN,
// for setns(2)).
func OpenAt(ns netns.NsHandle) (*Handle, error) {
	fd, err := unix.FcntlInt(uintptr(ns), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate namespace handle %s: %w", ns, err)
	}
	dup := netns.NsHandle(fd)
	h, err := netlink.NewHandleAt(dup, unix.NETLINK_ROUTE)
	if err != nil {
		dup.Close()
		return nil, fmt.Errorf("open netlink route socket in namespace %s: %w", ns, err)
	}
	return &Handle{nl: h, ns: dup}, nil
}

// Close releases the netlink socket (and OpenAt's namespace handle).
func (h *Handle) Close() error {
	h.nl.Close()
	if h.ns.IsOpen() {
		return h.ns.Close()
	}
	return nil
}

// Netlink returns the underlying netlink handle, for calls this package does
// not wrap. Dumps made through it do not retry ErrDumpInterrupted.
func (h *Handle) Netlink() *netlink.Handle { return h.nl }

// subscribeNS returns the namespace option for subscriptions: nil (the
// calling thread's namespace) after Open, the Handle's namespace after OpenAt.
func (h *Handle) subscribeNS() *netns.NsHandle {
	if !h.ns.IsOpen() {
		return nil
	}
	ns := h.ns
	return &ns
}

// retry runs dump until it does not report ErrDumpInterrupted, at most
// dumpAttempts times; the last error is returned without partial results.
func retry[T any](dump func() (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for range dumpAttempts {
		v, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	var zero T
	return zero, fmt.Errorf("%d attempts: %w", dumpAttempts, err)
}

// Links returns every link in the namespace. Equivalent to: ip link show.
func (h *Handle) Links() ([]netlink.Link, error) {
	links, err := retry(h.nl.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	return links, nil
}

// Addrs returns the addresses of link (all links when nil) of family
// (netlink.FAMILY_V4, FAMILY_V6 or FAMILY_ALL). Equivalent to:
// ip addr show [dev $link].
func (h *Handle) Addrs(link netlink.Link, family int) ([]netlink.Addr, error) {
	addrs, err := retry(func() ([]netlink.Addr, error) { return h.nl.AddrList(link, family) })
	if err != nil {
		if link != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
		}
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	return addrs, nil
}

// Routes returns the routes of family matching filter under filterMask
// (netlink.RT_FILTER_*; nil filter: all), from the main table unless the
// mask includes RT_FILTER_TABLE. Equivalent to: ip route show [table …].
func (h *Handle) Routes(family int, filter *netlink.Route, filterMask uint64) ([]netlink.Route, error) {
	if filter == nil {
		// netlink v1.3.1 dereferences a nil filter (prepareRouteReq).
		filter, filterMask = &netlink.Route{}, 0
	}
	routes, err := retry(func() ([]netlink.Route, error) { return h.nl.RouteListFiltered(family, filter, filterMask) })
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	return routes, nil
}

// Neighs returns the neighbour entries of family on link index linkIndex (0:
// every link). Equivalent to: ip neigh show [dev $link].
func (h *Handle) Neighs(linkIndex, family int) ([]netlink.Neigh, error) {
	neighs, err := retry(func() ([]netlink.Neigh, error) { return h.nl.NeighList(linkIndex, family) })
	if err != nil {
		return nil, fmt.Errorf("list neighbours: %w", err)
	}
	return neighs, nil
}

// LinkByName returns the link called name (a kernel name, or an alternative
// name). An absent link gives an error wrapping ErrLinkNotFound.
// Equivalent to: ip link show dev $name.
func (h *Handle) LinkByName(name string) (netlink.Link, error) {
	l, err := h.nl.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("find link %q: %w", name, notFound(err))
	}
	return l, nil
}

// LinkByIndex returns the link with index idx; absent, an error wrapping
// ErrLinkNotFound. Equivalent to: ip link show dev "#$idx".
func (h *Handle) LinkByIndex(idx int) (netlink.Link, error) {
	l, err := h.nl.LinkByIndex(idx)
	if err != nil {
		return nil, fmt.Errorf("find link #%d: %w", idx, notFound(err))
	}
	return l, nil
}

// notFound maps netlink's ways of saying "no such link" to ErrLinkNotFound.
func notFound(err error) error {
	var lnf netlink.LinkNotFoundError
	if errors.As(err, &lnf) || errors.Is(err, unix.ENODEV) {
		return ErrLinkNotFound
	}
	return err
}

// IsUp reports whether link can carry traffic: administratively up (IFF_UP)
// and operationally up, meaning IFLA_OPERSTATE "up", or "unknown" together
// with carrier (IFF_LOWER_UP), which is what drivers without operstate
// support report (lo, tun, some virtual NICs). Every other state (down,
// lowerlayerdown, dormant, testing, notpresent) is not up, nor is "unknown"
// without carrier. The link is not re-read.
func IsUp(link netlink.Link) bool {
	a := link.Attrs()
	if a.Flags&net.FlagUp == 0 {
		return false
	}
	switch a.OperState {
	case netlink.OperUp:
		return true
	case netlink.OperUnknown:
		return HasCarrier(link)
	}
	return false
}

// HasCarrier reports whether the link has carrier (IFF_LOWER_UP, "LOWER_UP"
// in ip link; /sys/class/net/$link/carrier = 1). The link is not re-read.
func HasCarrier(link netlink.Link) bool {
	return link.Attrs().RawFlags&unix.IFF_LOWER_UP != 0
}
