package garp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
)

// ErrNoReply is wrapped by Resolve's error when no answer came in time.
var ErrNoReply = errors.New("no reply")

// sendTries is how many times Probe and Resolve send their question,
// spread evenly over the timeout, against loss.
const sendTries = 3

// ndOnly is a socket filter for Ethernet frames carrying IPv6 (the socket's
// EtherType): it accepts ICMPv6 Neighbor Solicitations and Advertisements
// without extension headers and drops the rest in the kernel.
var ndOnly = mustAssemble([]bpf.Instruction{
	bpf.LoadAbsolute{Off: ethHeaderLen + 6, Size: 1}, // IPv6 next header
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: protoICMPv6, SkipTrue: 4},
	bpf.LoadAbsolute{Off: ethHeaderLen + ipv6HeaderLen, Size: 1}, // ICMPv6 type
	bpf.JumpIf{Cond: bpf.JumpEqual, Val: 135, SkipTrue: 1},       // neighbor solicitation
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 136, SkipTrue: 1},    // neighbor advertisement
	bpf.RetConstant{Val: 0xffff},
	bpf.RetConstant{Val: 0},
})

// listen opens the packet socket Probe and Resolve use for ip's family.
func listen(ifi *net.Interface, ip netip.Addr) (*packet.Conn, error) {
	if len(ifi.HardwareAddr) != 6 {
		return nil, errNotEthernet
	}
	if ip.Is4() {
		return packet.Listen(ifi, packet.Raw, etherTypeARP, nil)
	}
	return packet.Listen(ifi, packet.Raw, etherTypeIPv6, &packet.Config{Filter: ndOnly})
}

// exchange sends frame sendTries times spread over timeout and returns the
// MAC that match extracts from the first matching frame received; found is
// false when timeout passes first, err is ctx.Err() when ctx ends first.
func exchange(ctx context.Context, conn *packet.Conn, frame []byte, timeout time.Duration, match func([]byte) net.HardwareAddr) (mac net.HardwareAddr, found bool, err error) {
	start := time.Now()
	deadline := start.Add(timeout)
	spacing := timeout / sendTries
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	to := &packet.Addr{HardwareAddr: net.HardwareAddr(frame[0:6])}
	buf := make([]byte, 2048)
	sent := 0
	for {
		now := time.Now()
		next := start.Add(time.Duration(sent) * spacing)
		if sent < sendTries && !now.Before(next) {
			if _, err := conn.WriteTo(frame, to); err != nil {
				return nil, false, err
			}
			sent++
			next = start.Add(time.Duration(sent) * spacing)
		}
		if !now.Before(deadline) {
			return nil, false, nil
		}
		until := deadline
		if sent < sendTries && next.Before(until) {
			until = next
		}
		if err := conn.SetReadDeadline(until); err != nil {
			return nil, false, err
		}
		// After SetReadDeadline: a cancellation that raced with it is seen
		// here, a later one interrupts the read.
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if err := ctx.Err(); err != nil {
					return nil, false, err
				}
				continue
			}
			return nil, false, err
		}
		if mac := match(buf[:n]); mac != nil {
			return slices.Clone(mac), true, nil
		}
	}
}

// Probe asks whether another host has ip on ifi's link, and returns its MAC.
// IPv4: an RFC 5227 ARP probe (sender IP 0.0.0.0, sender MAC ifi's, target
// IP ip); any ARP packet from another MAC with sender IP ip is an owner, and
// so is another host's probe for ip. IPv6: a DAD Neighbor Solicitation from
// :: to ip's solicited-node group; a Neighbor Advertisement for ip from
// another MAC is an owner (its target link-layer address, else its Ethernet
// source), and so is another host's DAD solicitation for ip.
//
// The question goes out three times over timeout; Probe returns at the first
// answer, or found=false after timeout. It needs no address on ifi, and
// frames from ifi's own MAC are ignored, so a locally configured ip is not
// reported. Equivalent to: arping -D -I $ifi $ip (ndisc6 -r for IPv6).
func Probe(ctx context.Context, ifi *net.Interface, ip netip.Addr, timeout time.Duration) (owner net.HardwareAddr, found bool, err error) {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return nil, false, fmt.Errorf("probe on %s: invalid IP address", ifi.Name)
	}
	conn, err := listen(ifi, ip)
	if err != nil {
		return nil, false, fmt.Errorf("probe %s on %s: %w", ip, ifi.Name, err)
	}
	defer conn.Close()

	ours := ifi.HardwareAddr
	var (
		frame []byte
		match func([]byte) net.HardwareAddr
	)
	if ip.Is4() {
		frame, err = probeFrame(ours, ip)
		match = func(b []byte) net.HardwareAddr {
			p, ok := parseARP(b)
			if !ok || bytes.Equal(p.SenderHardwareAddr, ours) {
				return nil
			}
			claims := p.SenderIP == ip
			probes := p.Operation == arp.OperationRequest && p.SenderIP == ipv4Zero && p.TargetIP == ip
			if claims || probes {
				return p.SenderHardwareAddr
			}
			return nil
		}
	} else {
		frame, err = nsFrame(ours, unspecified, ip)
		match = func(b []byte) net.HardwareAddr {
			p, ok := parseNDP(b)
			if !ok || bytes.Equal(p.ethSrc, ours) {
				return nil
			}
			switch m := p.msg; m.typ {
			case icmpTypeNA:
				if m.target == ip {
					if m.targetLLA != nil {
						return m.targetLLA
					}
					return p.ethSrc
				}
			case icmpTypeNS:
				if m.target == ip && p.src == unspecified {
					return p.ethSrc
				}
			}
			return nil
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("probe %s on %s: %w", ip, ifi.Name, err)
	}
	owner, found, err = exchange(ctx, conn, frame, timeout, match)
	if err != nil {
		return nil, false, fmt.Errorf("probe %s on %s: %w", ip, ifi.Name, err)
	}
	return owner, found, nil
}

// Resolve asks for target's MAC on ifi's link, from src, and returns it.
// IPv4: a broadcast ARP request (sender src, or 0.0.0.0 when src is the
// zero Addr), answered by an ARP reply with sender IP target. IPv6: a
// Neighbor Solicitation from src (:: when zero; the answer then goes to
// ff02::1) to target's solicited-node group, answered by a Neighbor
// Advertisement for target. Frames from ifi's own MAC are ignored.
//
// The question goes out three times over timeout. No answer in time gives an
// error wrapping ErrNoReply; ctx ending first, one wrapping ctx.Err().
// src need not be configured on ifi, but the target answers more surely when
// src is on its subnet. Equivalent to: arping -c 1 -w $timeout -s $src
// -I $ifi $target (ndisc6 -s $src $target $ifi).
func Resolve(ctx context.Context, ifi *net.Interface, src, target netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	target = target.WithZone("").Unmap()
	src = src.WithZone("").Unmap()
	if !target.IsValid() {
		return nil, fmt.Errorf("resolve on %s: invalid target address", ifi.Name)
	}
	if !src.IsValid() {
		src = ipv4Zero
		if target.Is6() {
			src = unspecified
		}
	}
	if src.Is4() != target.Is4() {
		return nil, fmt.Errorf("resolve %s on %s: source %s of another family", target, ifi.Name, src)
	}
	conn, err := listen(ifi, target)
	if err != nil {
		return nil, fmt.Errorf("resolve %s on %s: %w", target, ifi.Name, err)
	}
	defer conn.Close()

	ours := ifi.HardwareAddr
	var (
		frame []byte
		match func([]byte) net.HardwareAddr
	)
	if target.Is4() {
		frame, err = resolveFrame(ours, src, target)
		match = func(b []byte) net.HardwareAddr {
			p, ok := parseARP(b)
			if ok && p.Operation == arp.OperationReply && p.SenderIP == target && !bytes.Equal(p.SenderHardwareAddr, ours) {
				return p.SenderHardwareAddr
			}
			return nil
		}
	} else {
		frame, err = nsFrame(ours, src, target)
		match = func(b []byte) net.HardwareAddr {
			p, ok := parseNDP(b)
			if !ok || bytes.Equal(p.ethSrc, ours) {
				return nil
			}
			if m := p.msg; m.typ == icmpTypeNA && m.target == target {
				if m.targetLLA != nil {
					return m.targetLLA
				}
				return p.ethSrc
			}
			return nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s on %s: %w", target, ifi.Name, err)
	}
	mac, found, err := exchange(ctx, conn, frame, timeout, match)
	switch {
	case err != nil:
		return nil, fmt.Errorf("resolve %s on %s: %w", target, ifi.Name, err)
	case !found:
		return nil, fmt.Errorf("resolve %s on %s: %w within %v", target, ifi.Name, ErrNoReply, timeout)
	}
	return mac, nil
}
