package netif

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidName is wrapped by ValidName's errors.
var ErrInvalidName = errors.New("invalid interface name")

// MaxNameLen is the longest kernel interface name, IFNAMSIZ-1 bytes.
// (Alternative names, up to 127 bytes, are found by LinkByName but are not
// kernel names.)
const MaxNameLen = 15

// ValidName reports whether name is a valid Linux interface name, by the
// kernel's dev_valid_name rules: 1 to 15 bytes, not "." or "..", and no
// '/', ':' or whitespace. ':' is legal to the kernel but is the address-label
// separator (eth0:vip) to ip(8) and ifconfig, so it is refused here. The
// error wraps ErrInvalidName.
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("interface name is empty: %w", ErrInvalidName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("interface name %q: %d bytes, want at most %d: %w", name, len(name), MaxNameLen, ErrInvalidName)
	case name == "." || name == "..":
		return fmt.Errorf("interface name %q: %w", name, ErrInvalidName)
	}
	if i := strings.IndexFunc(name, func(r rune) bool {
		// The kernel's isspace() covers ASCII space, \t \n \v \f \r.
		return r == '/' || r == ':' || r == ' ' || (r >= '\t' && r <= '\r')
	}); i >= 0 {
		return fmt.Errorf("interface name %q: character %q not allowed: %w", name, name[i], ErrInvalidName)
	}
	return nil
}
