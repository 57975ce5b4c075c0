// Command vip is the ocf:hanet:vip resource agent: a virtual IPv4/IPv6
// address with gratuitous ARP and unsolicited neighbour advertisements.
package main

import (
	"github.com/hanet/hanet/agents/vip"
	"github.com/hanet/hanet/pkg/ocf"
)

func main() { ocf.Run(vip.Agent{}) }
