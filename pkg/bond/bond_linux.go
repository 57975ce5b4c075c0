package bond

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/pkg/netif"
)

// Sentinels wrapped by this package's errors.
var (
	// ErrNoBonding: the kernel has no bonding driver (creating a bond
	// fails with EOPNOTSUPP, as on a kernel without bonding.ko).
	ErrNoBonding = errors.New("the kernel has no bonding driver")
	// ErrExists: an interface of that name already exists.
	ErrExists = errors.New("interface exists")
	// ErrNotBond: the interface exists but is not a bond.
	ErrNotBond = errors.New("not a bond")
	// ErrInUse: the port already has a master (a bridge, another bond).
	ErrInUse = errors.New("interface already has a master")
)

// A Handle manages bonds in one network namespace: a netif.Handle (its
// methods are promoted) plus the sysfs tree of that namespace.
type Handle struct {
	*netif.Handle
	// Sysfs is the sysfs directory of network interfaces, SysfsRoot
	// unless a test points it elsewhere. /sys shows the namespace that
	// mounted it, so it must match the Handle's namespace.
	Sysfs string
}

// Open returns a Handle for the caller's network namespace, speaking
// NETLINK_ROUTE only (netif.Open).
func Open() (*Handle, error) {
	h, err := netif.Open()
	if err != nil {
		return nil, err
	}
	return &Handle{Handle: h, Sysfs: SysfsRoot}, nil
}

// New returns a Handle over an open netif.Handle; closing it closes h.
func New(h *netif.Handle) *Handle { return &Handle{Handle: h, Sysfs: SysfsRoot} }

// Supported reports whether the kernel's bonding driver is loaded in this
// namespace (/sys/class/net/bonding_masters exists). Creating a bond may
// still load it on demand.
func (h *Handle) Supported() bool {
	_, err := os.Stat(filepath.Join(h.Sysfs, "bonding_masters"))
	return err == nil
}

// nlBond builds the netlink request for o. mode says whether to send the
// mode (only at creation: the kernel refuses any mode write on a bond with
// slaves, even of the same mode).
func (h *Handle) nlBond(name string, o *Options, mode bool) (*netlink.Bond, error) {
	attrs := netlink.NewLinkAttrs() // TxQLen -1: not sent
	attrs.Name = name
	attrs.MTU = o.MTU
	b := netlink.NewLinkBond(attrs) // every option "unset" (-1)
	if mode {
		b.Mode = netlink.BondMode(o.Mode)
		if len(o.MAC) > 0 {
			b.HardwareAddr = o.MAC
		}
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setBool := func(dst *int, v *bool) {
		if v != nil {
			*dst = 0
			if *v {
				*dst = 1
			}
		}
	}
	setInt(&b.Miimon, o.Miimon)
	setInt(&b.UpDelay, o.UpDelay)
	setInt(&b.DownDelay, o.DownDelay)
	setBool(&b.UseCarrier, o.UseCarrier)
	setInt(&b.ArpInterval, o.ARPInterval)
	if o.ARPIPTargets != nil {
		b.ArpIpTargets = make([]net.IP, 0, len(o.ARPIPTargets)) // empty, not nil: clears
		for _, t := range o.ARPIPTargets {
			b.ArpIpTargets = append(b.ArpIpTargets, net.IP(t.AsSlice()))
		}
	}
	if o.ARPValidate != nil {
		b.ArpValidate = netlink.BondArpValidate(*o.ARPValidate)
	}
	if o.ARPAllTargets != nil {
		b.ArpAllTargets = netlink.BondArpAllTargets(*o.ARPAllTargets)
	}
	if o.Primary != nil {
		b.Primary = 0 // clears
		if *o.Primary != "" {
			l, err := h.LinkByName(*o.Primary)
			if err != nil {
				return nil, fmt.Errorf("primary: %w", err)
			}
			b.Primary = l.Attrs().Index
		}
	}
	if o.PrimaryReselect != nil {
		b.PrimaryReselect = netlink.BondPrimaryReselect(*o.PrimaryReselect)
	}
	if o.FailOverMAC != nil {
		b.FailOverMac = netlink.BondFailOverMac(*o.FailOverMAC)
	}
	if o.XmitHashPolicy != nil {
		b.XmitHashPolicy = netlink.BondXmitHashPolicy(*o.XmitHashPolicy)
	}
	setInt(&b.NumPeerNotif, o.NumPeerNotif)
	setBool(&b.AllSlavesActive, o.AllSlavesActive)
	setInt(&b.MinLinks, o.MinLinks)
	setInt(&b.PacketsPerSlave, o.PacketsPerSlave)
	if o.LACPRate != nil {
		b.LacpRate = netlink.BondLacpRate(*o.LACPRate)
	}
	if o.ADSelect != nil {
		b.AdSelect = netlink.BondAdSelect(*o.ADSelect)
	}
	setBool(&b.TlbDynamicLb, o.TLBDynamicLB)
	return b, nil
}

// Create adds bond name with options o, administratively down and without
// slaves, and returns it as re-read from the kernel. The kernel applies the
// options of the one request in the order it needs (see the package
// comment). An existing interface of that name gives an error wrapping
// ErrExists; a kernel without bonding one wrapping ErrNoBonding. Equivalent
// to: ip link add $name [address $mac] [mtu $mtu] type bond mode $mode
// [miimon N] [updelay N] … (one argument per set option).
func (h *Handle) Create(name string, o *Options) (*netlink.Bond, error) {
	if err := netif.ValidName(name); err != nil {
		return nil, err
	}
	if l, err := h.LinkByName(name); err == nil {
		return nil, fmt.Errorf("create bond %s: a %s interface of that name exists: %w", name, l.Type(), ErrExists)
	}
	b, err := h.nlBond(name, o, true)
	if err != nil {
		return nil, fmt.Errorf("create bond %s: %w", name, err)
	}
	if err := h.Netlink().LinkAdd(b); err != nil {
		switch {
		case errors.Is(err, unix.EOPNOTSUPP):
			return nil, fmt.Errorf("create bond %s: %w: %w", name, ErrNoBonding, err)
		case errors.Is(err, unix.EEXIST):
			return nil, fmt.Errorf("create bond %s: %w: %w", name, ErrExists, err)
		}
		return nil, fmt.Errorf("create bond %s (%s): %w", name, o, err)
	}
	return h.bond(name)
}

// bond looks name up and insists it is a bond.
func (h *Handle) bond(name string) (*netlink.Bond, error) {
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, err
	}
	return asBond(l, name)
}

// asBond returns l as a bond, or an error wrapping ErrNotBond.
func asBond(l netlink.Link, name string) (*netlink.Bond, error) {
	b, ok := l.(*netlink.Bond)
	if !ok {
		return nil, fmt.Errorf("%s is a %s interface: %w", name, l.Type(), ErrNotBond)
	}
	return b, nil
}

// Change applies the options set in o to the live bond name (Mode and MAC
// are never sent: the kernel refuses a mode write on a bond with slaves).
// Options the kernel cannot change on a bond that is up or has slaves fail
// (see Diff and Changes). Equivalent to: ip link set $name [mtu N] type bond
// miimon N … (one argument per set option).
func (h *Handle) Change(name string, o *Options) error {
	if _, err := h.bond(name); err != nil {
		return fmt.Errorf("change bond %s: %w", name, err)
	}
	b, err := h.nlBond(name, o, false)
	if err != nil {
		return fmt.Errorf("change bond %s: %w", name, err)
	}
	// Found by name, not index: with an index and a name the kernel
	// treats the name as a rename, refused (EBUSY) on an up link after
	// the bond options were already applied.
	if err := h.Netlink().LinkModify(b); err != nil {
		return fmt.Errorf("change bond %s (%s): %w", name, o, err)
	}
	return nil
}

// Enslave makes slave a port of bond: down first (the kernel refuses an up
// port), then enslaved; the bond opens it again. A slave already in bond is
// left alone; one with another master gives an error wrapping ErrInUse
// (the kernel would silently take it from its bridge or bond). Equivalent
// to: ip link set $slave down; ip link set $slave master $bond
func (h *Handle) Enslave(bond, slave string) error {
	b, err := h.bond(bond)
	if err != nil {
		return fmt.Errorf("enslave %s to %s: %w", slave, bond, err)
	}
	s, err := h.LinkByName(slave)
	if err != nil {
		return fmt.Errorf("enslave %s to %s: %w", slave, bond, err)
	}
	switch m := s.Attrs().MasterIndex; {
	case m == b.Index:
		return nil
	case m != 0:
		return fmt.Errorf("enslave %s to %s: it is a port of %s: %w", slave, bond, h.nameOf(m), ErrInUse)
	}
	if err := h.Netlink().LinkSetDown(s); err != nil {
		return fmt.Errorf("enslave %s to %s: set %s down: %w", slave, bond, slave, err)
	}
	if err := h.Netlink().LinkSetMasterByIndex(s, b.Index); err != nil {
		return fmt.Errorf("enslave %s to %s: %w", slave, bond, err)
	}
	return nil
}

// Release removes slave from its bond; the kernel closes it and gives back
// the MTU and MAC it had when enslaved. A slave without master is left
// alone; one whose master is not a bond gives an error wrapping ErrNotBond.
// Equivalent to: ip link set $slave nomaster
func (h *Handle) Release(slave string) error {
	s, err := h.LinkByName(slave)
	if err != nil {
		return fmt.Errorf("release %s: %w", slave, err)
	}
	m := s.Attrs().MasterIndex
	if m == 0 {
		return nil
	}
	if _, ok := s.Attrs().Slave.(*netlink.BondSlave); !ok {
		return fmt.Errorf("release %s: its master %s: %w", slave, h.nameOf(m), ErrNotBond)
	}
	if err := h.Netlink().LinkSetNoMaster(s); err != nil {
		return fmt.Errorf("release %s: %w", slave, err)
	}
	return nil
}

// Delete removes bond name, releasing its slaves. An absent interface gives
// an error wrapping netif.ErrLinkNotFound, one that is not a bond an error
// wrapping ErrNotBond (and is left alone). Equivalent to:
// ip link del $name type bond
func (h *Handle) Delete(name string) error {
	b, err := h.bond(name)
	if err != nil {
		return fmt.Errorf("delete bond %s: %w", name, err)
	}
	if err := h.Netlink().LinkDel(b); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("delete bond %s: %w", name, netif.ErrLinkNotFound)
		}
		return fmt.Errorf("delete bond %s: %w", name, err)
	}
	return nil
}

// Up sets bond (or any link) name administratively up; the bond opens its
// ports. Equivalent to: ip link set $name up
func (h *Handle) Up(name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return err
	}
	return h.Handle.SetUp(l)
}

func (h *Handle) nameOf(index int) string {
	if l, err := h.LinkByIndex(index); err == nil {
		return l.Attrs().Name
	}
	return fmt.Sprintf("#%d", index)
}

// The 802.3ad port state bits (IEEE 802.1AX actor/partner state), as in
// Slave.ActorState and Slave.PartnerState.
const (
	PortActivity     uint8 = 1 << iota // LACP active
	PortTimeout                        // short timeout (lacp_rate fast)
	PortAggregation                    // aggregatable
	PortSync                           // in sync
	PortCollecting                     // collecting
	PortDistributing                   // distributing
	PortDefaulted                      // using defaulted partner information
	PortExpired                        // partner information expired

	// PortInUse is the state of a port carrying traffic in an aggregate:
	// aggregatable, in sync, collecting and distributing. With lacp_rate
	// fast and LACP active it reads 63.
	PortInUse = PortAggregation | PortSync | PortCollecting | PortDistributing
)

// A Slave is one port of a bond as netlink reports it.
type Slave struct {
	Name    string
	Index   int
	AdminUp bool
	Carrier bool
	// Active: the bond uses this port to send (IFLA_BOND_SLAVE_STATE
	// active; in active-backup only the active slave).
	Active bool
	// MII is the bond's view of the port's link: "up", "going down",
	// "down" or "going back" (from miimon, or from the ARP monitor).
	MII          string
	LinkFailures uint32 // link_failure_count
	PermMAC      net.HardwareAddr
	// 802.3ad: the aggregator the port belongs to and the LACP port
	// states of both ends.
	AggregatorID int
	ActorState   uint8
	PartnerState uint8
}

// Up reports whether the bond considers the port's link up.
func (s *Slave) Up() bool { return s.MII == "up" }

// Aggregated reports whether the port carries traffic in 802.3ad aggregator
// agg: it belongs to it and both its and its partner's state include
// PortInUse.
func (s *Slave) Aggregated(agg int) bool {
	return agg != 0 && s.AggregatorID == agg && s.ActorState&PortInUse == PortInUse && s.PartnerState&PortInUse == PortInUse
}

// Status is a bond's state.
type Status struct {
	Name      string
	Index     int
	AdminUp   bool
	Carrier   bool // IFF_LOWER_UP: at least one usable slave (min_links in 802.3ad)
	OperState netlink.LinkOperState
	MTU       int
	MAC       net.HardwareAddr
	// Options are the live options; Primary is set only while the
	// primary names an enslaved port, as the kernel reports it.
	Options     Options
	ActiveSlave string  // sysfs active_slave ("" when none)
	Slaves      []Slave // in the kernel's order (sysfs slaves)
	AD          *ADInfo // 802.3ad only
}

// Slave returns the port called name, or nil.
func (s *Status) Slave(name string) *Slave {
	for i := range s.Slaves {
		if s.Slaves[i].Name == name {
			return &s.Slaves[i]
		}
	}
	return nil
}

// Aggregated returns the ports carrying traffic in the active 802.3ad
// aggregator (none outside 802.3ad).
func (s *Status) Aggregated() []Slave {
	if s.AD == nil {
		return nil
	}
	var out []Slave
	for _, sl := range s.Slaves {
		if sl.Aggregated(s.AD.Aggregator) {
			out = append(out, sl)
		}
	}
	return out
}

var miiNames = map[netlink.BondSlaveMiiStatus]string{
	netlink.BondLinkUp:   "up",
	netlink.BondLinkFail: "going down",
	netlink.BondLinkDown: "down",
	netlink.BondLinkBack: "going back",
}

// Status reads bond name: the link and its live options from netlink, its
// ports from netlink (state, MII status, failure count, LACP states) in the
// order of sysfs bonding/slaves, and from sysfs active_slave and, in
// 802.3ad, the aggregator and partner (ad_*). An absent interface gives an
// error wrapping netif.ErrLinkNotFound, one that is not a bond ErrNotBond.
// Equivalent to: ip -d link show $name; ip -d link show master $name;
// cat /sys/class/net/$name/bonding/{slaves,active_slave,ad_*}
func (h *Handle) Status(name string) (*Status, error) {
	// One dump gives the bond and its ports: monitor runs this every few
	// seconds. The bond is looked up on its own only when the dump lacks
	// it (absent, or named by an alternative name), for the typed error.
	links, err := h.Links()
	if err != nil {
		return nil, err
	}
	var b *netlink.Bond
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
		if l.Attrs().Name == name {
			if b, err = asBond(l, name); err != nil {
				return nil, err
			}
		}
	}
	if b == nil {
		if b, err = h.bond(name); err != nil {
			return nil, err
		}
	}
	a := b.Attrs()
	st := &Status{
		Name:      a.Name,
		Index:     a.Index,
		AdminUp:   a.Flags&net.FlagUp != 0,
		Carrier:   netif.HasCarrier(b),
		OperState: a.OperState,
		MTU:       a.MTU,
		MAC:       a.HardwareAddr,
		Options:   optionsOf(b, names),
	}
	for _, l := range links {
		la := l.Attrs()
		if la.MasterIndex != a.Index {
			continue
		}
		bs, ok := la.Slave.(*netlink.BondSlave)
		if !ok {
			continue
		}
		st.Slaves = append(st.Slaves, Slave{
			Name:         la.Name,
			Index:        la.Index,
			AdminUp:      la.Flags&net.FlagUp != 0,
			Carrier:      netif.HasCarrier(l),
			Active:       bs.State == netlink.BondStateActive,
			MII:          miiNames[bs.MiiStatus],
			LinkFailures: bs.LinkFailureCount,
			PermMAC:      bs.PermHardwareAddr,
			AggregatorID: int(bs.AggregatorId),
			ActorState:   bs.AdActorOperPortState,
			PartnerState: uint8(bs.AdPartnerOperPortState),
		})
	}
	if order, err := readAttr(h.Sysfs, name, "bonding", "slaves"); err == nil {
		pos := map[string]int{}
		for i, n := range strings.Fields(order) {
			pos[n] = i
		}
		slices.SortStableFunc(st.Slaves, func(x, y Slave) int {
			px, okx := pos[x.Name]
			py, oky := pos[y.Name]
			switch {
			case okx && oky:
				return px - py
			case okx:
				return -1
			case oky:
				return 1
			}
			return 0
		})
	}
	if s, err := readAttr(h.Sysfs, name, "bonding", "active_slave"); err == nil {
		st.ActiveSlave = s
	} else if b.ActiveSlave > 0 {
		st.ActiveSlave = names[b.ActiveSlave]
	}
	if st.Options.Mode == LACP {
		ad, err := readADInfo(h.Sysfs, name)
		if err != nil {
			return nil, fmt.Errorf("bond %s: 802.3ad state: %w", name, err)
		}
		st.AD = ad
	}
	return st, nil
}

// optionsOf converts netlink's view of a bond into Options, every option
// set. names maps ifindexes to names (for primary).
func optionsOf(b *netlink.Bond, names map[int]string) Options {
	intp := func(v int) *int { return &v }
	boolp := func(v int) *bool { x := v != 0; return &x }
	o := Options{
		Mode:            Mode(b.Mode),
		Miimon:          intp(b.Miimon),
		UpDelay:         intp(b.UpDelay),
		DownDelay:       intp(b.DownDelay),
		UseCarrier:      boolp(b.UseCarrier),
		ARPInterval:     intp(b.ArpInterval),
		ARPIPTargets:    []netip.Addr{},
		ARPValidate:     Ptr(ARPValidate(b.ArpValidate)),
		ARPAllTargets:   Ptr(ARPAllTargets(b.ArpAllTargets)),
		Primary:         Ptr(""),
		PrimaryReselect: Ptr(PrimaryReselect(b.PrimaryReselect)),
		FailOverMAC:     Ptr(FailOverMAC(b.FailOverMac)),
		XmitHashPolicy:  Ptr(XmitHashPolicy(b.XmitHashPolicy)),
		MinLinks:        intp(b.MinLinks),
		NumPeerNotif:    intp(b.NumPeerNotif),
		AllSlavesActive: boolp(b.AllSlavesActive),
		PacketsPerSlave: intp(b.PacketsPerSlave),
		TLBDynamicLB:    boolp(b.TlbDynamicLb),
		MTU:             b.MTU,
		MAC:             b.HardwareAddr,
	}
	if Mode(b.Mode) == LACP { // the kernel reports these in 802.3ad only
		o.LACPRate = Ptr(LACPRate(b.LacpRate))
		o.ADSelect = Ptr(ADSelect(b.AdSelect))
	}
	for _, ip := range b.ArpIpTargets {
		if a, ok := netip.AddrFromSlice(ip); ok {
			o.ARPIPTargets = append(o.ARPIPTargets, a.Unmap())
		}
	}
	if b.Primary > 0 {
		o.Primary = Ptr(names[b.Primary])
	}
	return o
}

// Wait polls bond name every 10 ms until done returns true or an error,
// and returns the last status read. When ctx ends first, the error wraps
// ctx.Err() and the last status is returned with it (nil if none was read).
func (h *Handle) Wait(ctx context.Context, name string, done func(*Status) (bool, error)) (*Status, error) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last *Status
	for {
		st, err := h.Status(name)
		if err != nil {
			return last, err
		}
		last = st
		ok, err := done(st)
		if ok || err != nil {
			return st, err
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("wait for bond %s: %w", name, ctx.Err())
		case <-tick.C:
		}
	}
}

// A LinkState is what a port was like before a bond took it, so it can be
// put back: administrative state, MTU, MAC and master.
type LinkState struct {
	Name   string `json:"name"`
	Index  int    `json:"index"`
	Up     bool   `json:"up"`
	MTU    int    `json:"mtu"`
	MAC    string `json:"mac,omitempty"`
	Master string `json:"master,omitempty"`
}

// Capture reads the state of link name. Equivalent to: ip link show $name
func (h *Handle) Capture(name string) (LinkState, error) {
	l, err := h.LinkByName(name)
	if err != nil {
		return LinkState{}, err
	}
	a := l.Attrs()
	s := LinkState{Name: a.Name, Index: a.Index, Up: a.Flags&net.FlagUp != 0, MTU: a.MTU}
	if len(a.HardwareAddr) > 0 {
		s.MAC = a.HardwareAddr.String()
	}
	if a.MasterIndex != 0 {
		s.Master = h.nameOf(a.MasterIndex)
	}
	return s, nil
}

// Restore puts link s.Name back into state s: down while the MTU and MAC
// are set back when they differ, then up if it was up. A zero MTU or an
// empty MAC in s leaves that attribute alone. It does not touch the master
// (a port is released with Release). Equivalent to:
// ip link set $name down; ip link set $name mtu $mtu address $mac; ip link set $name up
func (h *Handle) Restore(s LinkState) error {
	l, err := h.LinkByName(s.Name)
	if err != nil {
		return fmt.Errorf("restore %s: %w", s.Name, err)
	}
	a := l.Attrs()
	nl := h.Netlink()
	var errs []error
	mac, _ := net.ParseMAC(s.MAC)
	needMAC := len(mac) > 0 && a.HardwareAddr.String() != mac.String()
	needMTU := s.MTU > 0 && a.MTU != s.MTU
	if (needMAC || needMTU || !s.Up) && a.Flags&net.FlagUp != 0 {
		if err := nl.LinkSetDown(l); err != nil {
			errs = append(errs, fmt.Errorf("set down: %w", err))
		}
	}
	if needMTU {
		if err := nl.LinkSetMTU(l, s.MTU); err != nil {
			errs = append(errs, fmt.Errorf("set mtu %d: %w", s.MTU, err))
		}
	}
	if needMAC {
		if err := nl.LinkSetHardwareAddr(l, mac); err != nil {
			errs = append(errs, fmt.Errorf("set address %s: %w", mac, err))
		}
	}
	if s.Up {
		if err := nl.LinkSetUp(l); err != nil {
			errs = append(errs, fmt.Errorf("set up: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("restore %s: %w", s.Name, err)
	}
	return nil
}
