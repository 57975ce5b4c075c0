package testutil

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// InGuest reports whether the test runs inside the qemu bonding lab
// (tests/vm/run sets HANET_IN_VM=1).
func InGuest() bool { return os.Getenv("HANET_IN_VM") == "1" }

// RepoRoot returns the directory holding the module's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// RunGuestSuite runs the calling package's guest tests (files tagged
// `//go:build vmtest`) inside the qemu bonding lab: it builds the package's
// test binary statically with -tags vmtest and boots it through
// tests/vm/run, failing t when the guest suite fails or, with
// HANET_NO_SKIP=1, when a guest test skips. Call it from an untagged host
// test; inside the guest that test is excluded with -test.skip. The host
// kernel has no bonding driver, so this is how bond tests run on every CI.
func RunGuestSuite(t *testing.T, args ...string) {
	t.Helper()
	if InGuest() {
		t.Fatal("RunGuestSuite called inside the guest")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		if os.Getenv("HANET_NO_SKIP") == "1" {
			t.Fatal("qemu-system-x86_64 not found (apt-get install qemu-system-x86): the bonding lab cannot boot")
		}
		t.Skip("qemu-system-x86_64 not found (apt-get install qemu-system-x86): cannot boot the bonding kernel lab")
	}
	root := RepoRoot(t)
	bin := filepath.Join(t.TempDir(), "guest.test")
	build := exec.Command("go", "test", "-c", "-tags", "vmtest", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build guest tests: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	argv := append([]string{bin, "-test.v", "-test.skip", "^" + t.Name() + "$", "-test.timeout", "8m"}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(root, "tests", "vm", "run"), argv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("guest suite ran in %s:\n%s", time.Since(start).Round(10*time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("guest suite failed: %v", err)
	}
	if os.Getenv("HANET_NO_SKIP") == "1" && strings.Contains(out.String(), "--- SKIP") {
		t.Fatal("a guest test skipped (HANET_NO_SKIP=1)")
	}
	if !strings.Contains(out.String(), "--- PASS") {
		t.Fatal("no guest test ran")
	}
}
