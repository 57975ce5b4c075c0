// Command vip is the ocf:hanet:vip resource agent: a virtual IPv4/IPv6
// address with gratuitous ARP and unsolicited neighbour advertisements.
package main

import (
	"os"
	"runtime"

	"github.com/hanet/hanet/agents/vip"
	"github.com/hanet/hanet/pkg/ocf"
)

func main() {
	// An action lives a few milliseconds and mostly waits on the kernel:
	// one P spares the threads the runtime would start for idle Ps.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	ocf.Run(vip.Agent{})
}
