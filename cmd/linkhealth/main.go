// Command linkhealth is the ocf:hanet:linkhealth resource agent: link health
// from netlink events and ARP / neighbour-solicitation probes, published as
// a transient node attribute through attrd_updater.
package main

import (
	"github.com/hanet/hanet/agents/linkhealth"
	"github.com/hanet/hanet/pkg/ocf"
)

func main() { ocf.Run(linkhealth.Agent{}) }
