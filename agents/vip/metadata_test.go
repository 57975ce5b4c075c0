package vip

import (
	"testing"

	"github.com/hanet/hanet/pkg/ocf/ocftest"
)

// TestMetadata validates both meta-data forms against ra-api-1.dtd (as
// ocf-tester does) and the OCF 1.1 RELAX NG schema.
func TestMetadata(t *testing.T) {
	ocftest.CheckMetadata(t, Agent{})
}
