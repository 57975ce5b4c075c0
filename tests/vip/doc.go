// Package vip holds the black-box tests of the ocf:hanet:vip agent: the
// built binary (go build in TestMain, or $HANET_BIN/vip) run inside
// anonymous network namespaces joined by a veth pair to a peer namespace
// that captures the announcements, plus ocf-tester and the meta-data
// schemas. The tests need root and skip without it (CI runs them as root
// and fails on skips); they never touch the host's own interfaces.
package vip
