// Command bond is the ocf:hanet:bond resource agent: a Linux bonding device
// over the given ports, with the kernel's bonding options.
package main

import (
	"github.com/hanet/hanet/agents/bond"
	"github.com/hanet/hanet/pkg/ocf"
)

func main() { ocf.Run(bond.Agent{}) }
