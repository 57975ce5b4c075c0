//go:build linux

package vm

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Helper modes of the test binary, chosen by TestRunner through HANET_VMTEST_MODE.
const modeEnv = "HANET_VMTEST_MODE"

// helperArgs and helperValue are what TestRunner passes to the "exit3" helper.
var (
	helperArgs  = []string{"a b", "it's", "$HOME", "`id`", `back\slash`, "", "two\nlines"}
	helperValue = `x 'y' "$z" \n`
)

// TestRunner boots this package's test binary through tests/vm/run and checks what comes back:
// the bond test passes, and exit codes, arguments, environment and the timeout propagate.
func TestRunner(t *testing.T) {
	if os.Getenv("HANET_IN_VM") == "1" {
		t.Skip("boots qemu through tests/vm/run: runs on the host, not in the guest")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not found (apt-get install qemu-system-x86): cannot boot the bonding lab")
	}

	// The payload: this package's tests, static, as the guest has no Go toolchain.
	bin := filepath.Join(t.TempDir(), "vm.test")
	build := exec.Command("go", "test", "-c", "-tags", "vmtest", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	// Build the image once before the parallel boots (they would wait on its lock anyway).
	if out, err := exec.Command("./build").CombinedOutput(); err != nil {
		t.Fatalf("tests/vm/build: %v\n%s", err, out)
	}

	tests := []struct {
		name    string
		env     []string
		args    []string
		want    int
		wantOut string
	}{
		{name: "bond", args: []string{"-test.run=^TestGuestBond$", "-test.v"},
			want: 0, wantOut: "--- PASS: TestGuestBond"},
		{name: "failing payload", env: []string{modeEnv + "=fail"},
			want: 1, wantOut: "failing on purpose"},
		{name: "exit code and arguments", env: []string{modeEnv + "=exit3", "HANET_VMTEST_VALUE=" + helperValue},
			args: helperArgs, want: 3},
		{name: "timeout", env: []string{modeEnv + "=hang", "HANET_VM_TIMEOUT=10"},
			want: 124},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("./run", append([]string{bin}, tt.args...)...)
			cmd.Env = append(os.Environ(), "HANET_VM_TIMEOUT=300")
			cmd.Env = append(cmd.Env, tt.env...)
			out, err := cmd.CombinedOutput()
			got := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				got = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("run %s: exit %d, want %d with %q in the output:\n%s",
					strings.Join(tt.args, " "), got, tt.want, tt.wantOut, out)
			}
		})
	}
}
