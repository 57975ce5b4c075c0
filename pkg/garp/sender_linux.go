package garp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/hanet/hanet/pkg/netif"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// dropAll is a socket filter that accepts nothing: the Sender only sends,
// and its receive queue should not fill with every ARP or IPv6 frame.
var dropAll = mustAssemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})

func mustAssemble(prog []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		panic(err)
	}
	return raw
}

// A Sender sends gratuitous ARP (IPv4) or unsolicited Neighbor
// Advertisements (IPv6) for one address on one Ethernet interface. It needs
// no address on the interface.
type Sender struct {
	ifi  *net.Interface
	ip   netip.Addr
	conn *packet.Conn
	// nl reads the addresses of ifi to pick the NA source; IPv6 only.
	nl *netif.Handle
}

// Open returns a Sender for ip on ifi, over an AF_PACKET socket (ARP or
// IPv6 EtherType) that receives nothing. ip may be IPv4 or IPv6 (an
// IPv4-mapped IPv6 address counts as IPv4). ifi must have a 6-byte MAC; it
// is read once, here. Opening needs CAP_NET_RAW (errors wrap
// os.ErrPermission otherwise); for IPv6 it also opens a NETLINK_ROUTE socket
// in the calling thread's network namespace.
func Open(ifi *net.Interface, ip netip.Addr) (*Sender, error) {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return nil, fmt.Errorf("open announcer on %s: invalid IP address", ifi.Name)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("open announcer for %s on %s: %w", ip, ifi.Name, errNotEthernet)
	}
	proto := etherTypeARP
	if ip.Is6() {
		proto = etherTypeIPv6
	}
	conn, err := packet.Listen(ifi, packet.Raw, proto, &packet.Config{Filter: dropAll})
	if err != nil {
		return nil, fmt.Errorf("open announcer for %s on %s: %w", ip, ifi.Name, err)
	}
	s := &Sender{ifi: ifi, ip: ip, conn: conn}
	if ip.Is6() {
		if s.nl, err = netif.Open(); err != nil {
			conn.Close()
			return nil, fmt.Errorf("open announcer for %s on %s: %w", ip, ifi.Name, err)
		}
	}
	return s, nil
}

// Close releases the Sender's sockets.
func (s *Sender) Close() error {
	var err error
	if s.nl != nil {
		err = s.nl.Close()
	}
	return errors.Join(s.conn.Close(), err)
}

// IP returns the address the Sender announces.
func (s *Sender) IP() netip.Addr { return s.ip }

// Interface returns the interface the Sender sends on.
func (s *Sender) Interface() *net.Interface { return s.ifi }

// send writes one frame to its Ethernet destination.
func (s *Sender) send(what string, frame []byte, err error) error {
	if err == nil {
		_, err = s.conn.WriteTo(frame, &packet.Addr{HardwareAddr: net.HardwareAddr(frame[0:6])})
	}
	if err != nil {
		return fmt.Errorf("send %s for %s on %s: %w", what, s.ip, s.ifi.Name, err)
	}
	return nil
}

// Request sends one gratuitous ARP request: Ethernet broadcast from the
// interface MAC, sender IP = target IP = the address, target MAC zero.
// Equivalent to: arping -U -c 1 -I $ifi $ip (one of send_arp's two frames).
func (s *Sender) Request() error {
	if !s.ip.Is4() {
		return fmt.Errorf("send ARP request for %s on %s: not IPv4", s.ip, s.ifi.Name)
	}
	f, err := requestFrame(s.ifi.HardwareAddr, s.ip)
	return s.send("gratuitous ARP request", f, err)
}

// Reply sends one gratuitous ARP reply: Ethernet broadcast from the
// interface MAC, sender IP = target IP = the address, target MAC = sender
// MAC. Equivalent to: arping -A -c 1 -I $ifi $ip.
func (s *Sender) Reply() error {
	if !s.ip.Is4() {
		return fmt.Errorf("send ARP reply for %s on %s: not IPv4", s.ip, s.ifi.Name)
	}
	f, err := replyFrame(s.ifi.HardwareAddr, s.ip)
	return s.send("gratuitous ARP reply", f, err)
}

// Advertise sends one unsolicited Neighbor Advertisement for the address to
// ff02::1: hop limit 255, Override set, Solicited clear, target link-layer
// address option = the interface MAC. The IPv6 source is the address itself
// unless it is absent, tentative or dadfailed, then the interface's first
// usable link-local address, else the address anyway. Equivalent to:
// send_ua $ip 64 1 $ifi.
func (s *Sender) Advertise() error {
	if !s.ip.Is6() {
		return fmt.Errorf("send neighbor advertisement for %s on %s: not IPv6", s.ip, s.ifi.Name)
	}
	addrs, err := s.nl.Addrs(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: s.ifi.Index, Name: s.ifi.Name}}, netlink.FAMILY_V6)
	if err != nil {
		return fmt.Errorf("send neighbor advertisement for %s on %s: choose source: %w", s.ip, s.ifi.Name, err)
	}
	f, err := naFrame(s.ifi.HardwareAddr, naSource(addrs, s.ip), s.ip)
	return s.send("neighbor advertisement", f, err)
}

// naSource picks the source of an unsolicited NA for vip among the
// interface's addresses: vip when configured and usable, else the first
// usable link-local address, else vip. Usable means neither tentative nor
// dadfailed.
func naSource(addrs []netlink.Addr, vip netip.Addr) netip.Addr {
	const unusable = unix.IFA_F_TENTATIVE | unix.IFA_F_DADFAILED
	var ll netip.Addr
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || a.Flags&unusable != 0 {
			continue
		}
		if ip == vip {
			return vip
		}
		if !ll.IsValid() && ip.Is6() && ip.IsLinkLocalUnicast() {
			ll = ip
		}
	}
	if ll.IsValid() {
		return ll
	}
	return vip
}
