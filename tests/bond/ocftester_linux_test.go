//go:build linux && !vmtest

package bondtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hanet/hanet/pkg/testutil"
)

// ocfTesterGuest is the script TestOCFTesterFullRoot runs in the
// full-userland guest (tests/vm/fullroot/run: the host's / over 9p with a
// tmpfs overlay, Debian's kernel with the bonding driver). $1 is the agent.
// The slaves are veths whose peers live in a namespace and stay up.
const ocfTesterGuest = `set -u
echo "guest: command started $(cut -d' ' -f1 /proc/uptime) s after kernel start"
[ -e /sys/class/net/bonding_masters ] || { echo "guest: no bonding driver"; exit 90; }
ip netns add peer || exit 91
for i in 0 1; do
	ip link add s$i type veth peer name p$i netns peer || exit 92
	ip -n peer link set p$i up || exit 93
done
d=$(mktemp -d /tmp/ocf-tester.XXXXXX) && chmod 0755 "$d" || exit 94
cp "$1" "$d/bond" && chmod 0755 "$d/bond" || exit 95 # ocf-tester runs meta-data as nobody
start=$(cut -d' ' -f1 /proc/uptime)
timeout -k 5 240 ocf-tester -n bondtest -o name=hbond0 -o "slaves=s0 s1" \
	-o mode=active-backup -o miimon=100 "$d/bond" 2>&1
rc=$?
echo "guest: ocf-tester exited $rc after $(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime) s"
if ip link show hbond0 >/dev/null 2>&1; then
	echo "guest: hbond0 still exists after ocf-tester"
	[ $rc -ne 0 ] || rc=96
fi
exit $rc
`

// TestOCFTesterFullRoot runs the real ocf-tester (resource-agents) against
// the agent binary with the real bonding driver: the host has no bonding, so
// it boots the full-userland guest of tests/vm/fullroot, where ocf-tester,
// xmllint and su are the host's own. It skips only when qemu is missing, and
// then fails with HANET_NO_SKIP=1.
func TestOCFTesterFullRoot(t *testing.T) {
	if inGuest() {
		t.Skip("host only: boots its own guest")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		if os.Getenv("HANET_NO_SKIP") == "1" {
			t.Fatal("qemu-system-x86_64 not found (apt-get install qemu-system-x86): the full-userland guest cannot boot")
		}
		t.Skip("qemu-system-x86_64 not found (apt-get install qemu-system-x86): cannot boot the full-userland guest")
	}
	if _, err := exec.LookPath("ocf-tester"); err != nil {
		t.Fatal("ocf-tester not found (apt-get install resource-agents): the guest uses the host's userland")
	}
	root := testutil.RepoRoot(t)

	// The guest sees the host's files at their paths, but /tmp and /run are
	// its own tmpfs: keep the agent and the script in the cache directory.
	cache := os.Getenv("HANET_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		must(t, err)
		cache = filepath.Join(home, ".cache", "hanet")
	}
	must(t, os.MkdirAll(filepath.Join(cache, "tmp"), 0o755))
	dir, err := os.MkdirTemp(filepath.Join(cache, "tmp"), "ocf-tester-")
	must(t, err)
	defer os.RemoveAll(dir)
	agent := filepath.Join(dir, "bond")
	if b := os.Getenv("HANET_BIN"); b != "" { // make test: the built agent
		data, err := os.ReadFile(filepath.Join(b, "bond"))
		must(t, err)
		must(t, os.WriteFile(agent, data, 0o755))
	} else {
		build := exec.Command("go", "build", "-trimpath", "-o", agent, "github.com/hanet/hanet/cmd/bond")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	script := filepath.Join(dir, "guest.sh")
	must(t, os.WriteFile(script, []byte(ocfTesterGuest), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "tests", "vm", "fullroot", "run"), "/bin/sh", script, agent)
	cmd.Env = append(os.Environ(), "HANET_VM_TIMEOUT=280")
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("full-userland guest ran in %s:\n%s", time.Since(start).Round(10*time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("ocf-tester in the guest failed: %v", err)
	}
	if !strings.Contains(out.String(), "passed all tests") {
		t.Fatal(`ocf-tester did not report "passed all tests"`)
	}
}
