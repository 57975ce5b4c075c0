// Package vm holds the smoke test of the qemu bonding lab.
//
// The host kernel has no bonding driver, so bond tests run in a qemu guest booting Debian's
// kernel: tests/vm/build makes the image, tests/vm/run boots one binary in it and returns the
// binary's exit code, so that
//
//	go test -exec "$PWD/tests/vm/run" ./pkg/bond/...
//
// runs each test binary in its own guest. The tests here prove the lab: TestRunner (on the
// host) checks that exit codes, arguments and the timeout come back through the runner, and
// TestGuestBond (in the guest) builds an active-backup bond over veth and fails it over.
package vm
