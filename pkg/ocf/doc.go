// Package ocf is the Open Cluster Framework resource-agent contract as
// Pacemaker 2.1.5 applies it: action dispatch, exit codes and exit reasons,
// OCF_RESKEY_* parameters driven by one parameter table per agent, meta-data
// in the OCF 1.0 (ra-api-1.dtd) and OCF 1.1 forms, logging that follows
// HA_LOGFACILITY/HA_LOGFILE/HA_debug, the action deadline, and state files
// under HA_RSCTMP.
//
// Main is a pure function of (args, environment, stdout, stderr) returning
// an ExitCode, so the whole contract is tested without a process; Run is the
// only place that touches the real process and exits. Agents implement Agent
// and return errors; only this package turns them into exit codes.
//
// Agents' tests use the sibling package ocftest: ocftest.Run drives an
// agent through Main, ocftest.CheckMetadata validates both meta-data forms
// with xmllint.
//
// The package imports no networking code: mechanism lives in pkg/netif,
// pkg/bond and pkg/garp, policy in agents/<agent>.
package ocf
