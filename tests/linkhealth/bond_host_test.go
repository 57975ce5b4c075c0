//go:build linux && !vmtest

package linkhealth

import (
	"testing"

	"github.com/hanet/hanet/pkg/testutil"
)

// TestGuestBond boots the bond tests (bond_guest_test.go, tagged vmtest) in
// the qemu bonding lab of tests/vm: the host kernel has no bonding driver.
// It runs with or without the integration tag; the guest binary is built
// with -tags vmtest alone, so none of the integration files go into it and
// the test binary itself is the agent there (see bond_guest_test.go).
func TestGuestBond(t *testing.T) { testutil.RunGuestSuite(t) }
