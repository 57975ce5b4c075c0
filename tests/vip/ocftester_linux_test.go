package vip

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/ocf/ocftest"
	"github.com/hanet/hanet/pkg/testutil"
)

const ocfTester = "/usr/sbin/ocf-tester"

// TestOCFTester runs resource-agents' ocf-tester against the binary inside
// the agent namespace, for an IPv4 and an IPv6 address: it must report 0
// failures ("passed all tests").
func TestOCFTester(t *testing.T) {
	if _, err := os.Stat(ocfTester); err != nil {
		t.Fatalf("%v: install resource-agents (ocf-tester)", err)
	}
	tests := []struct {
		name   string
		params []string
	}{
		{"ipv4", []string{"ip=" + vip4, "nic=" + nic, "cidr_netmask=24"}},
		{"ipv6 detected", []string{"ip=" + vip6, "nodad=true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			args := []string{"-n", "vip-test"}
			for _, p := range tt.params {
				args = append(args, "-o", p)
			}
			cmd := testutil.Exec(w.ns, ocfTester, append(args, agentBin)...)
			cmd.Env = []string{
				"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
				"OCF_ROOT=/usr/lib/ocf",
				"HA_RSCTMP=" + w.state,
			}
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("passed all tests")) {
				t.Fatalf("ocf-tester: %v\n%s", err, out)
			}
			t.Logf("%s", bytes.TrimSpace(out))
			w.hasNot(strings.TrimPrefix(tt.params[0], "ip="))
		})
	}
}

// TestMetadataBinary validates the binary's meta-data in both forms: the
// OCF 1.0 form (no version announced) with ra-api-1.dtd as ocf-tester
// does, the OCF 1.1 form (1/1 announced) with the RELAX NG schema.
func TestMetadataBinary(t *testing.T) {
	testutil.SkipUnlessRoot(t) // agentBin is built only as root
	for _, tt := range []struct {
		name string
		env  []string
		form ocf.Form
	}{
		{"OCF 1.0", nil, ocf.OCF10},
		{"OCF 1.0 announced", []string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=0"}, ocf.OCF10},
		{"OCF 1.1", []string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1"}, ocf.OCF11},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(agentBin, "meta-data")
			cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("vip meta-data: %v\n%s", err, stderr.String())
			}
			if err := ocftest.ValidateMetadata(out, tt.form); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
			// Exactly what ocf-tester runs, from its directory.
			if tt.form == ocf.OCF10 {
				lint := exec.Command("xmllint", "--noout", "--valid", "-")
				lint.Dir = ocftest.SystemDir
				lint.Stdin = bytes.NewReader(out)
				if msg, err := lint.CombinedOutput(); err != nil {
					t.Errorf("xmllint --valid: %v\n%s", err, msg)
				}
			}
		})
	}
}
