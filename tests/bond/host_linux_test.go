//go:build linux && !vmtest

package bondtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	bondlink "github.com/hanet/hanet/pkg/bond"
	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/testutil"
)

// TestGuest boots the guest tests (vmtest) in the qemu bonding lab.
func TestGuest(t *testing.T) { testutil.RunGuestSuite(t) }

// TestMetadataXmllint validates both meta-data forms of the agent with
// xmllint exactly as ocf-tester (OCF 1.0 form, DTD) and Pacemaker 2.1's
// OCF 1.1 schema do. Host only: the guest has no xmllint.
func TestMetadataXmllint(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not found (apt-get install libxml2-utils); the qemu guest has none")
	}
	self, _ := os.Executable()
	meta := func(env ...string) []byte {
		cmd := exec.Command(self, "meta-data")
		cmd.Env = append(append(os.Environ(), "HANET_AS_AGENT=1"), env...)
		out, err := cmd.Output()
		must(t, err)
		return out
	}
	lint := func(doc []byte, args ...string) {
		cmd := exec.Command("xmllint", append(args, "-")...)
		cmd.Stdin = bytes.NewReader(doc)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("xmllint %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	v10 := meta()
	if !bytes.Contains(v10, []byte(`<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">`)) {
		t.Errorf("OCF 1.0 form lacks the DOCTYPE ocf-tester needs")
	}
	if _, err := os.Stat("/usr/share/resource-agents/ra-api-1.dtd"); err == nil {
		lint(v10, "--noout", "--valid", "--path", "/usr/share/resource-agents")
	} else {
		t.Log("resource-agents not installed: DTD check skipped")
	}
	rng := "/work/shared/schemas/ra-api-1.1.rng"
	if _, err := os.Stat(rng); err != nil {
		rng = "../../pkg/ocf/testdata/ra-api-1.1.rng" // the repository's copy
	}
	v11 := meta("OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1")
	lint(v11, "--noout", "--relaxng", rng)
	lint(v10, "--noout", "--relaxng", rng)
	if !bytes.Contains(v11, []byte(`name="reload-agent"`)) || bytes.Contains(v10, []byte(`name="reload-agent"`)) {
		t.Errorf("reload-agent must be in the 1.1 form only")
	}
}

// TestOCFTesterHost runs the real ocf-tester on the host, which has no
// bonding driver: it cannot start a bond, so the slaves are names that do
// not exist and start must fail with 2 before touching anything. Every
// check ocf-tester makes before start (meta-data as nobody, DTD,
// validate-all, monitor 7, probe 7) must pass, and start must be its only
// failure. The full sequence runs in the guest (TestOCFTesterSequence).
func TestOCFTesterHost(t *testing.T) {
	if inGuest() {
		t.Skip("host only: the guest has no ocf-tester")
	}
	tester, err := exec.LookPath("ocf-tester")
	if err != nil {
		t.Skip("ocf-tester not found (apt-get install resource-agents)")
	}
	testutil.SkipUnlessRoot(t) // ocf-tester runs meta-data as nobody through su
	dir, err := os.MkdirTemp("", "hanet-ocf-tester-")
	must(t, err)
	defer os.RemoveAll(dir)
	must(t, os.Chmod(dir, 0o755)) // nobody must reach the agent
	bin := filepath.Join(dir, "bond")
	if b := os.Getenv("HANET_BIN"); b != "" { // make test: the built agent
		data, err := os.ReadFile(filepath.Join(b, "bond"))
		must(t, err)
		must(t, os.WriteFile(bin, data, 0o755))
	} else {
		build := exec.Command("go", "build", "-o", bin, "../../cmd/bond")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(tester, "-n", "hbtest", "-o", "name=hbtest0", "-o", "slaves=hbtnone0 hbtnone1", bin)
	cmd.Env = append(os.Environ(), "HA_RSCTMP="+dir+"/rsc")
	out, _ := cmd.CombinedOutput()
	var failures []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "* ") {
			failures = append(failures, line)
		}
	}
	if len(failures) != 1 || !strings.Contains(failures[0], "rc=2: Start failed") {
		t.Errorf("ocf-tester: want start (rc 2, no bonding here) as the only failure, got %q\n%s", failures, out)
	}
	t.Logf("ocf-tester on the host:\n%s", out)
}

// TestNoBondingDriver: on a kernel without bonding (the host), start fails
// with 5 and leaves the ports and the state directory as they were. The
// agent runs in a namespace of the test's own, holding the ports.
func TestNoBondingDriver(t *testing.T) {
	if inGuest() {
		t.Skip("host only: this kernel has the bonding driver")
	}
	testutil.SkipUnlessRoot(t)
	ns := testutil.NewNS(t)
	testutil.Veth(t, ns, "nb0", ns, "nb0p")
	testutil.Veth(t, ns, "nb1", ns, "nb1p")
	h := testutil.Handle(t, ns)
	snap := func() []bondlink.LinkState {
		var out []bondlink.LinkState
		for _, n := range []string{"nb0", "nb1"} {
			s, err := capture(h, n)
			must(t, err)
			out = append(out, s)
		}
		return out
	}
	before := snap()
	dir := t.TempDir()
	self, _ := os.Executable()
	run := func(action string, env ...string) (int, string) {
		cmd := testutil.Exec(ns, self, action)
		cmd.Env = append(os.Environ(), "HANET_AS_AGENT=1", "HA_RSCTMP="+dir, "OCF_RESOURCE_INSTANCE=nb",
			"OCF_RESKEY_name=nbond0", "OCF_RESKEY_slaves=nb0 nb1")
		cmd.Env = append(cmd.Env, env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, stderr.String()
	}
	if code, stderr := run("start"); code != int(ocf.ErrInstalled) {
		t.Errorf("start without bonding = %d, want 5:\n%s", code, stderr)
	} else {
		t.Logf("start without bonding: %s", reason(stderr))
	}
	if code, stderr := run("monitor", probe); code != int(ocf.ErrNotRunning) {
		t.Errorf("probe = %d, want 7:\n%s", code, stderr)
	}
	if code, stderr := run("stop"); code != 0 {
		t.Errorf("stop = %d, want 0:\n%s", code, stderr)
	}
	if after := snap(); !reflect.DeepEqual(after, before) {
		t.Errorf("ports changed:\n after  %+v\n before %+v", after, before)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "hanet-bond-*")); len(slices.DeleteFunc(m, func(s string) bool { return strings.HasSuffix(s, ".lock") })) != 0 {
		t.Errorf("state files left: %v", m)
	}
}
