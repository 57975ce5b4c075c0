// Package bondtest holds the black-box tests of ocf:hanet:bond against the
// real bonding driver. The host kernel has none, so the guest tests (files
// tagged vmtest) run in the qemu guest of tests/vm: TestGuest, on the host,
// builds them with CGO_ENABLED=0 -tags vmtest and boots the binary through
// tests/vm/run (testutil.RunGuestSuite); tests/bond/run does the same for
// this package and pkg/bond side by side and prints the measurements. The
// host-only tests check both meta-data forms with xmllint, run the real
// ocf-tester as far as it gets without a bond, and start the agent on a
// kernel without bonding.
//
// The test binary is also the agent: with HANET_AS_AGENT=1, TestMain runs
// ocf.Run(bond.Agent{}) instead of the tests, so the guest needs no second
// binary and every action runs as its own process, as under Pacemaker.
package bondtest
