//go:build linux

package bondtest

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hanet/hanet/agents/bond"
	bondlink "github.com/hanet/hanet/pkg/bond"
	"github.com/hanet/hanet/pkg/ocf"
)

func TestMain(m *testing.M) {
	if os.Getenv("HANET_AS_AGENT") == "1" {
		ocf.Run(bond.Agent{}) // exits
	}
	os.Exit(m.Run())
}

// inGuest reports whether this kernel has the bonding driver (the qemu
// guest sets HANET_IN_VM=1).
func inGuest() bool {
	if os.Getenv("HANET_IN_VM") == "1" {
		return true
	}
	_, err := os.Stat("/sys/class/net/bonding_masters")
	return err == nil
}

// Environment entries for monitor: recurring, probe, deep.
var (
	recurring = "OCF_RESKEY_CRM_meta_interval=10000"
	probe     = "OCF_RESKEY_CRM_meta_interval=0"
	level10   = "OCF_CHECK_LEVEL=10"
)

// reason is the exit reason in stderr.
func reason(stderr string) string {
	var r string
	for _, l := range strings.Split(stderr, "\n") {
		if s, ok := strings.CutPrefix(l, "ocf-exit-reason:"); ok {
			r = s
		}
	}
	return r
}

// capture reads a link's state as the agent records it.
func capture(h *netlink.Handle, name string) (bondlink.LinkState, error) {
	k, err := h.LinkByName(name)
	if err != nil {
		return bondlink.LinkState{}, err
	}
	a := k.Attrs()
	s := bondlink.LinkState{Name: a.Name, Index: a.Index, Up: a.Flags&net.FlagUp != 0, MTU: a.MTU, MAC: a.HardwareAddr.String()}
	if a.MasterIndex != 0 {
		if m, err := h.LinkByIndex(a.MasterIndex); err == nil {
			s.Master = m.Attrs().Name
		}
	}
	return s, nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
