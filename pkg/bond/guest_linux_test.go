//go:build !vmtest

package bond

import (
	"testing"

	"github.com/hanet/hanet/pkg/testutil"
)

// TestGuest boots this package's guest tests (bond_linux_test.go, tagged
// vmtest) in the qemu bonding lab: the host kernel has no bonding driver.
func TestGuest(t *testing.T) { testutil.RunGuestSuite(t) }
