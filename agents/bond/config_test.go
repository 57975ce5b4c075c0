package bond

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	bondlink "github.com/hanet/hanet/pkg/bond"
	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/ocf/ocftest"
)

// capture is the agent with a validate-all that keeps the parsed Config
// and the warnings, so tests see what parseConfig made of an environment
// without touching the host (level 0 never does).
type capture struct {
	Agent
	cfg      *Config
	warnings []string
}

func (a *capture) Validate(ctx context.Context, c *ocf.Call) error {
	cfg, err := parseConfig(c.Params, func(f string, args ...any) {
		a.warnings = append(a.warnings, f)
	})
	a.cfg = cfg
	return err
}

// params turns "k=v" pairs into an environment of OCF_RESKEY_k=v entries.
func params(kv ...string) map[string]string {
	env := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		env["OCF_RESKEY_"+k] = v
	}
	return env
}

var p = bondlink.Ptr[int]

func TestParseConfig(t *testing.T) {
	base := []string{"name=bond0", "slaves=eth1 eth2"}
	tests := []struct {
		name   string
		params []string
		want   func(*Config)
		warn   string
	}{
		{name: "defaults", want: func(c *Config) {}},
		{name: "seed: mode=active-backup miimon=100", params: []string{"mode=active-backup", "miimon=100"},
			want: func(c *Config) {}},
		{name: "mode by number", params: []string{"mode=4", "lacp_rate=1"},
			want: func(c *Config) {
				c.Options.Mode = bondlink.LACP
				c.Options.LACPRate = bondlink.Ptr(bondlink.LACPFast)
			}},
		{name: "seed: 802.3ad miimon=100 lacp_rate=fast", params: []string{"mode=802.3ad", "miimon=100", "lacp_rate=fast", "xmit_hash_policy=layer3+4", "min_links=1", "ad_select=count"},
			want: func(c *Config) {
				c.Options.Mode = bondlink.LACP
				c.Options.LACPRate = bondlink.Ptr(bondlink.LACPFast)
				c.Options.XmitHashPolicy = bondlink.Ptr(bondlink.HashLayer34)
				c.Options.MinLinks = p(1)
				c.Options.ADSelect = bondlink.Ptr(bondlink.ADSelectCount)
			}},
		{name: "slaves with commas, order kept", params: []string{"slaves=eth2,eth1"},
			want: func(c *Config) { c.Slaves = []string{"eth2", "eth1"} }},
		{name: "ARP monitor", params: []string{"arp_interval=100", "arp_ip_target=10.0.0.1,10.0.0.2", "arp_validate=all", "arp_all_targets=all"},
			want: func(c *Config) {
				c.Options.Miimon = nil
				c.Options.ARPInterval = p(100)
				c.Options.ARPIPTargets = []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}
				c.Options.ARPValidate = bondlink.Ptr(bondlink.ValidateAll)
				c.Options.ARPAllTargets = bondlink.Ptr(bondlink.TargetsAll)
			}},
		{name: "ARP monitor without validation warns", params: []string{"arp_interval=100", "arp_ip_target=10.0.0.1"},
			want: func(c *Config) {
				c.Options.Miimon = nil
				c.Options.ARPInterval = p(100)
				c.Options.ARPIPTargets = []netip.Addr{netip.MustParseAddr("10.0.0.1")}
			}, warn: "arp_validate"},
		{name: "arp_interval 0 keeps the MII default", params: []string{"arp_interval=0"},
			want: func(c *Config) { c.Options.ARPInterval = p(0) }},
		{name: "delays", params: []string{"miimon=100", "updelay=200", "downdelay=300"},
			want: func(c *Config) { c.Options.UpDelay, c.Options.DownDelay = p(200), p(300) }},
		{name: "no monitoring warns", params: []string{"miimon=0"},
			want: func(c *Config) { c.Options.Miimon = p(0) }, warn: "does not monitor"},
		{name: "primary", params: []string{"primary=eth2", "primary_reselect=failure"},
			want: func(c *Config) {
				c.Options.Primary = bondlink.Ptr("eth2")
				c.Options.PrimaryReselect = bondlink.Ptr(bondlink.ReselectFailure)
			}},
		{name: "primary_reselect alone warns", params: []string{"primary_reselect=better"},
			want: func(c *Config) { c.Options.PrimaryReselect = bondlink.Ptr(bondlink.ReselectBetter) }, warn: "without primary"},
		{name: "xmit_hash_policy in active-backup warns", params: []string{"xmit_hash_policy=layer2+3"},
			want: func(c *Config) { c.Options.XmitHashPolicy = bondlink.Ptr(bondlink.HashLayer23) }, warn: "no effect"},
		{name: "num_unsol_na", params: []string{"num_unsol_na=3"},
			want: func(c *Config) { c.Options.NumPeerNotif = p(3) }},
		{name: "num_grat_arp equal to num_unsol_na", params: []string{"num_grat_arp=3", "num_unsol_na=3"},
			want: func(c *Config) { c.Options.NumPeerNotif = p(3) }},
		{name: "balance-rr packets_per_slave", params: []string{"mode=balance-rr", "packets_per_slave=4"},
			want: func(c *Config) { c.Options.Mode = bondlink.BalanceRR; c.Options.PacketsPerSlave = p(4) }},
		{name: "balance-tlb tlb_dynamic_lb", params: []string{"mode=5", "tlb_dynamic_lb=false"},
			want: func(c *Config) { c.Options.Mode = bondlink.BalanceTLB; c.Options.TLBDynamicLB = bondlink.Ptr(false) }},
		{name: "link", params: []string{"mtu=9000", "mac=02:00:00:00:00:01", "use_carrier=0", "all_slaves_active=1", "fail_over_mac=active"},
			want: func(c *Config) {
				c.Options.MTU = 9000
				c.Options.MAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}
				c.Options.UseCarrier = bondlink.Ptr(false)
				c.Options.AllSlavesActive = bondlink.Ptr(true)
				c.Options.FailOverMAC = bondlink.Ptr(bondlink.FailOverMACActive)
			}},
		{name: "policy", params: []string{"min_active_slaves=1", "adopt=yes"},
			want: func(c *Config) { c.MinActive, c.Adopt = 1, true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := &Config{Name: "bond0", Slaves: []string{"eth1", "eth2"}, MinActive: 2,
				Options: bondlink.Options{Mode: bondlink.ActiveBackup, Miimon: p(100)}}
			tt.want(want)
			a := &capture{}
			code, _, stderr := ocftest.Run(t, a, params(append(base, tt.params...)...), "validate-all")
			if code != ocf.Success {
				t.Fatalf("validate-all = %d, want 0; stderr:\n%s", code, stderr)
			}
			if !reflect.DeepEqual(a.cfg, want) {
				t.Errorf("config\n got %+v\nwant %+v", a.cfg, want)
			}
			if got := strings.Join(a.warnings, "\n"); !strings.Contains(got, tt.warn) || tt.warn == "" && got != "" {
				t.Errorf("warnings %q, want one containing %q", got, tt.warn)
			}
		})
	}
}

// TestParseConfigInvalid: parameters wrong in themselves are 6 with a reason
// naming the problem, whatever the node.
func TestParseConfigInvalid(t *testing.T) {
	tests := []struct {
		params []string
		reason string
	}{
		{[]string{"slaves=eth1"}, "name is not set"},
		{[]string{"name=bond0"}, "slaves is not set"},
		{[]string{"name=bond0", "slaves= , "}, "slaves"},
		{[]string{"name=averyverylongbond", "slaves=eth1"}, "at most 15"},
		{[]string{"name=bo/nd", "slaves=eth1"}, "not allowed"},
		{[]string{"name=bonding_masters", "slaves=eth1"}, "bonding_masters"},
		{[]string{"name=bond0", "slaves=eth1 ../x"}, "slaves"},
		{[]string{"name=bond0", "slaves=eth1 eth2 eth1"}, "eth1 is listed twice"},
		{[]string{"name=bond0", "slaves=bond0 eth1"}, "port of itself"},
		{[]string{"name=bond0", "slaves=eth1", "mode=lacp"}, "mode"},
		{[]string{"name=bond0", "slaves=eth1", "mode=7"}, "mode"},
		{[]string{"name=bond0", "slaves=eth1", "miimon=-1"}, "miimon"},
		{[]string{"name=bond0", "slaves=eth1", "miimon=fast"}, "miimon"},
		{[]string{"name=bond0", "slaves=eth1", "lacp_rate=fast"}, "lacp_rate is for mode 802.3ad"},
		{[]string{"name=bond0", "slaves=eth1", "ad_select=count"}, "ad_select is for mode 802.3ad"},
		{[]string{"name=bond0", "slaves=eth1", "miimon=100", "arp_interval=100", "arp_ip_target=10.0.0.1"}, "exclude each other"},
		{[]string{"name=bond0", "slaves=eth1", "mode=802.3ad", "arp_interval=100", "arp_ip_target=10.0.0.1"}, "not supported in mode 802.3ad"},
		{[]string{"name=bond0", "slaves=eth1", "mode=balance-alb", "arp_interval=100", "arp_ip_target=10.0.0.1"}, "not supported in mode balance-alb"},
		{[]string{"name=bond0", "slaves=eth1", "arp_interval=100"}, "needs arp_ip_target"},
		{[]string{"name=bond0", "slaves=eth1", "arp_ip_target=10.0.0.1"}, "arp_ip_target needs arp_interval"},
		{[]string{"name=bond0", "slaves=eth1", "arp_validate=all"}, "arp_validate all needs arp_interval"},
		{[]string{"name=bond0", "slaves=eth1", "mode=802.3ad", "arp_validate=none"}, "arp_validate is not supported"},
		{[]string{"name=bond0", "slaves=eth1", "arp_all_targets=all"}, "arp_all_targets needs arp_interval"},
		{[]string{"name=bond0", "slaves=eth1", "arp_interval=100", "arp_ip_target=fe80::1"}, "not an IPv4"},
		{[]string{"name=bond0", "slaves=eth1", "arp_interval=100", "arp_ip_target=255.255.255.255"}, "cannot answer"},
		{[]string{"name=bond0", "slaves=eth1", "arp_interval=100", "arp_ip_target=10.0.0.1 10.0.0.1"}, "listed twice"},
		{[]string{"name=bond0", "slaves=eth1", "arp_interval=100", "arp_ip_target=" + strings.Repeat("10.0.0.1 ", 17)}, "at most 16"},
		{[]string{"name=bond0", "slaves=eth1", "arp_validate=sometimes"}, "arp_validate"},
		{[]string{"name=bond0", "slaves=eth1", "updelay=200", "miimon=0"}, "updelay 200 needs miimon"},
		{[]string{"name=bond0", "slaves=eth1", "downdelay=150"}, "not a multiple of miimon 100"},
		{[]string{"name=bond0", "slaves=eth1", "arp_interval=100", "arp_ip_target=10.0.0.1", "updelay=100"}, "needs miimon"},
		{[]string{"name=bond0", "slaves=eth1 eth2", "primary=eth3"}, "primary eth3 is not one of slaves"},
		{[]string{"name=bond0", "slaves=eth1 eth2", "mode=balance-xor", "primary=eth1"}, "primary is not supported in mode balance-xor"},
		{[]string{"name=bond0", "slaves=eth1", "num_grat_arp=2", "num_unsol_na=3"}, "one kernel setting"},
		{[]string{"name=bond0", "slaves=eth1", "num_grat_arp=256"}, "maximum"},
		{[]string{"name=bond0", "slaves=eth1", "packets_per_slave=2"}, "packets_per_slave is for mode balance-rr"},
		{[]string{"name=bond0", "slaves=eth1", "tlb_dynamic_lb=0"}, "tlb_dynamic_lb is for modes"},
		{[]string{"name=bond0", "slaves=eth1", "mode=802.3ad", "min_links=2"}, "never have carrier"},
		{[]string{"name=bond0", "slaves=eth1", "mtu=60"}, "minimum"},
		{[]string{"name=bond0", "slaves=eth1", "mac=01:00:5e:00:00:01"}, "not a unicast"},
		{[]string{"name=bond0", "slaves=eth1", "mac=00:00:00:00:00:00"}, "not a unicast"},
		{[]string{"name=bond0", "slaves=eth1", "mac=banana"}, "not an Ethernet MAC"},
		{[]string{"name=bond0", "slaves=eth1", "min_active_slaves=2"}, "more than the 1 slaves"},
		{[]string{"name=bond0", "slaves=eth1", "min_active_slaves=0"}, "minimum"},
		{[]string{"name=bond0", "slaves=eth1", "adopt=maybe"}, "adopt"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.params, " "), func(t *testing.T) {
			code, _, stderr := ocftest.Run(t, Agent{}, params(tt.params...), "validate-all")
			if code != ocf.ErrConfigured {
				t.Fatalf("validate-all = %d, want 6; stderr:\n%s", code, stderr)
			}
			reason, last := ocftest.ExitReason(stderr)
			if !strings.Contains(reason, tt.reason) || !last {
				t.Errorf("exit reason %q (last line: %v), want one containing %q", reason, last, tt.reason)
			}
			if len(reason) > 128 {
				t.Errorf("exit reason is %d bytes; Pacemaker keeps 128", len(reason))
			}
		})
	}
}

// TestRecurringMonitorNever6: a recurring monitor with broken parameters
// fails (1) rather than banning the resource everywhere (6); a probe may say
// 6 for a malformed value.
func TestRecurringMonitorNever6(t *testing.T) {
	env := params("name=bond0", "slaves=eth1", "lacp_rate=fast")
	env["OCF_RESKEY_CRM_meta_interval"] = "10000"
	if code, _, stderr := ocftest.Run(t, Agent{}, env, "monitor"); code != ocf.ErrGeneric {
		t.Errorf("recurring monitor with lacp_rate outside 802.3ad = %d, want 1; stderr:\n%s", code, stderr)
	}
	env["OCF_RESKEY_CRM_meta_interval"] = "0"
	if code, _, stderr := ocftest.Run(t, Agent{}, env, "monitor"); code != ocf.ErrConfigured {
		t.Errorf("probe with lacp_rate outside 802.3ad = %d, want 6; stderr:\n%s", code, stderr)
	}
}

// TestActionsWithoutBond runs the actions that need no bond on any host
// (they only read interfaces of made-up names, so they are safe on the host):
// a missing slave is 2 (7 in a probe), never 6; stopping nothing is 0.
func TestActionsWithoutBond(t *testing.T) {
	ok := params("name=hbtest0", "slaves=hbtnone0 hbtnone1")
	probe := params("name=hbtest0", "slaves=hbtnone0 hbtnone1", "CRM_meta_interval=0")
	recurring := params("name=hbtest0", "slaves=hbtnone0 hbtnone1", "CRM_meta_interval=10000")
	level10 := params("name=hbtest0", "slaves=hbtnone0 hbtnone1")
	level10["OCF_CHECK_LEVEL"] = "10"
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		want   ocf.ExitCode
		reason string
	}{
		{"notify", []string{"notify"}, ok, ocf.ErrUnimplemented, "not supported"},
		{"reload", []string{"reload"}, ok, ocf.ErrUnimplemented, "not supported"},
		{"usage", []string{"usage"}, nil, ocf.Success, ""},
		{"meta-data", []string{"meta-data"}, nil, ocf.Success, ""},
		{"validate-all", []string{"validate-all"}, ok, ocf.Success, ""},
		{"validate-all with flags", []string{"validate-all", "--name", "bond7", "--slaves", "a b", "--mode", "802.3ad"}, nil, ocf.Success, ""},
		{"probe", []string{"monitor"}, probe, ocf.ErrNotRunning, ""},
		{"recurring monitor", []string{"monitor"}, recurring, ocf.ErrNotRunning, ""},
		{"stop", []string{"stop"}, ok, ocf.Success, ""},
		{"stop with broken parameters", []string{"stop"}, params("name=hbtest0", "slaves=x", "lacp_rate=fast"), ocf.Success, ""},
		{"stop with a bad name", []string{"stop"}, params("name=../x", "slaves=x"), ocf.Success, ""},
		{"start, slave missing", []string{"start"}, ok, ocf.ErrArgs, "slave hbtnone0 does not exist on this node"},
		{"reload-agent, not running", []string{"reload-agent"}, ok, ocf.Success, ""},
	}
	if _, err := bondlink.Open(); err == nil && bondingModuleInstalled() {
		tests = append(tests, struct {
			name   string
			args   []string
			env    map[string]string
			want   ocf.ExitCode
			reason string
		}{"validate-all level 10, slave missing", []string{"validate-all"}, level10, ocf.ErrArgs, "does not exist"})
	} else {
		tests = append(tests, struct {
			name   string
			args   []string
			env    map[string]string
			want   ocf.ExitCode
			reason string
		}{"validate-all level 10, no bonding", []string{"validate-all"}, level10, ocf.ErrInstalled, "no bonding driver"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := ocftest.Run(t, Agent{}, tt.env, tt.args...)
			if code != tt.want {
				t.Fatalf("= %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
			if reason, _ := ocftest.ExitReason(stderr); !strings.Contains(reason, tt.reason) {
				t.Errorf("exit reason %q, want one containing %q", reason, tt.reason)
			}
		})
	}
}

// TestMetadata validates both meta-data forms against ra-api-1.dtd (as
// ocf-tester does) and the OCF 1.1 RELAX NG schema, and checks which
// parameters are reloadable: those the kernel changes on a live bond.
func TestMetadata(t *testing.T) {
	ocftest.CheckMetadata(t, Agent{})
	fixed := map[string]bool{"name": true, "slaves": true, "mode": true, "fail_over_mac": true,
		"lacp_rate": true, "ad_select": true, "tlb_dynamic_lb": true, "mac": true}
	for _, p := range Params {
		if p.Reloadable == fixed[p.Name] {
			t.Errorf("parameter %s: reloadable %v, want %v", p.Name, p.Reloadable, !fixed[p.Name])
		}
	}
	// Every kernel option the agent sets has a parameter of that name.
	have := map[string]bool{}
	for _, p := range Params {
		have[p.Name] = true
	}
	for _, n := range bondlink.OptionNames() {
		if !have[n] {
			t.Errorf("kernel option %s has no parameter", n)
		}
	}
}
