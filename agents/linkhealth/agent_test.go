package linkhealth

import (
	"strings"
	"testing"
	"time"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/ocf/ocftest"
)

func TestMetadata(t *testing.T) {
	ocftest.CheckMetadata(t, Agent{})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		code   ocf.ExitCode
		reason string // part of the exit reason
	}{
		{"minimal", map[string]string{"interfaces": "eth0"}, ocf.Success, ""},
		{"everything", map[string]string{
			"interfaces": "eth0, bond0", "name": "uplinks", "multiplier": "100",
			"arp_targets":    "192.0.2.1@eth0 2001:db8::1@bond0,fe80::1@bond0",
			"probe_interval": "500ms", "probe_timeout": "200ms", "fail_count": "2", "recover_count": "4",
			"dampen": "0", "health_attribute": "true", "min_healthy": "2",
		}, ocf.Success, ""},
		{"single interface target without @", map[string]string{"interfaces": "eth0", "arp_targets": "192.0.2.1"}, ocf.Success, ""},
		{"interfaces unset", map[string]string{}, ocf.ErrConfigured, "interfaces"},
		{"bad interface name", map[string]string{"interfaces": "eth0/1"}, ocf.ErrConfigured, "interfaces"},
		{"interface name too long", map[string]string{"interfaces": "averyveryverylongname"}, ocf.ErrConfigured, "interfaces"},
		{"interface label", map[string]string{"interfaces": "eth0:1"}, ocf.ErrConfigured, "interfaces"},
		{"interface twice", map[string]string{"interfaces": "eth0 eth0"}, ocf.ErrConfigured, "twice"},
		{"fail_count 0", map[string]string{"interfaces": "eth0", "fail_count": "0"}, ocf.ErrConfigured, "fail_count"},
		{"fail_count text", map[string]string{"interfaces": "eth0", "fail_count": "three"}, ocf.ErrConfigured, "fail_count"},
		{"recover_count 0", map[string]string{"interfaces": "eth0", "recover_count": "0"}, ocf.ErrConfigured, "recover_count"},
		{"multiplier 0", map[string]string{"interfaces": "eth0", "multiplier": "0"}, ocf.ErrConfigured, "multiplier"},
		{"min_healthy above the interfaces", map[string]string{"interfaces": "eth0 eth1", "min_healthy": "3"}, ocf.ErrConfigured, "min_healthy"},
		{"min_healthy negative", map[string]string{"interfaces": "eth0", "min_healthy": "-1"}, ocf.ErrConfigured, "min_healthy"},
		{"probe_interval too short", map[string]string{"interfaces": "eth0", "probe_interval": "10ms"}, ocf.ErrConfigured, "probe_interval"},
		{"probe_timeout above probe_interval", map[string]string{"interfaces": "eth0", "probe_interval": "1s", "probe_timeout": "2s"}, ocf.ErrConfigured, "probe_timeout"},
		{"dampen too long", map[string]string{"interfaces": "eth0", "dampen": "2h"}, ocf.ErrConfigured, "dampen"},
		{"health_attribute not a boolean", map[string]string{"interfaces": "eth0", "health_attribute": "maybe"}, ocf.ErrConfigured, "health_attribute"},
		{"name with a space", map[string]string{"interfaces": "eth0", "name": "a b"}, ocf.ErrConfigured, "name"},
		{"name starting with #", map[string]string{"interfaces": "eth0", "name": "#health-x"}, ocf.ErrConfigured, "name"},
		{"target without interface, two interfaces", map[string]string{"interfaces": "eth0 eth1", "arp_targets": "192.0.2.1"}, ocf.ErrConfigured, "ADDRESS@INTERFACE"},
		{"target on another interface", map[string]string{"interfaces": "eth0", "arp_targets": "192.0.2.1@eth1"}, ocf.ErrConfigured, "not one of interfaces"},
		{"target not an address", map[string]string{"interfaces": "eth0", "arp_targets": "gateway@eth0"}, ocf.ErrConfigured, "not an IPv4 or IPv6"},
		{"target interface:address form", map[string]string{"interfaces": "eth0", "arp_targets": "eth0:192.0.2.1"}, ocf.ErrConfigured, "arp_targets"},
		{"target with a zone", map[string]string{"interfaces": "eth0", "arp_targets": "fe80::1%eth0"}, ocf.ErrConfigured, "zone"},
		{"multicast target", map[string]string{"interfaces": "eth0", "arp_targets": "224.0.0.1@eth0"}, ocf.ErrConfigured, "cannot answer"},
		{"unspecified target", map[string]string{"interfaces": "eth0", "arp_targets": "::@eth0"}, ocf.ErrConfigured, "cannot answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.params {
				env["OCF_RESKEY_"+k] = v
			}
			code, _, stderr := ocftest.Run(t, Agent{}, env, "validate-all")
			if code != tt.code {
				t.Fatalf("validate-all = %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if tt.code != ocf.Success {
				reason, last := ocftest.ExitReason(stderr)
				if !last || !strings.Contains(reason, tt.reason) {
					t.Errorf("exit reason %q (last line: %v), want it to mention %q", reason, last, tt.reason)
				}
			}
		})
	}
}

func TestDefaultName(t *testing.T) {
	for in, want := range map[string]string{
		"eth0":           "linkhealth-eth0",
		"eth0 eth1":      "linkhealth-eth0-eth1",
		"bond0,eth2 br0": "linkhealth-bond0-eth2-br0",
	} {
		if got := DefaultName(ocf.SplitList(in)); got != want {
			t.Errorf("DefaultName(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	env := map[string]string{"OCF_RESKEY_interfaces": "eth0 eth1", "OCF_RESKEY_arp_targets": "192.0.2.1@eth0 2001:db8::1@eth1",
		"OCF_RESKEY_health_attribute": "yes", "OCF_RESKEY_dampen": "1500ms"}
	code, _, stderr := ocftest.Run(t, Agent{}, env, "validate-all")
	if code != ocf.Success {
		t.Fatalf("validate-all = %d: %s", code, stderr)
	}
	f := files{state: ocf.State{Dir: t.TempDir()}}
	f.base = f.state.Path("linkhealth", "x", "")
	cfg := &Config{Interfaces: []string{"eth0", "eth1"}, Name: "n", Multiplier: 2, Health: true, Dampen: 1500 * time.Millisecond,
		Targets:       []Target{{Addr: mustAddr("192.0.2.1"), Iface: "eth0"}, {Addr: mustAddr("2001:db8::1"), Iface: "eth1"}},
		ProbeInterval: time.Second, ProbeTimeout: time.Second / 2, FailCount: 3, RecoverCount: 5, MinHealthy: 1, Generation: 7}
	if err := f.state.Save(f.conf(), cfg); err != nil {
		t.Fatal(err)
	}
	got, err := loadConf(f)
	if err != nil {
		t.Fatal(err)
	}
	if got.HealthName() != "#health-n" || got.Generation != 7 || len(got.TargetsOf("eth1")) != 1 || got.TargetsOf("eth1")[0].String() != "2001:db8::1@eth1" {
		t.Errorf("round trip: %+v", got)
	}
	if !got.SameIdentity(cfg) {
		t.Error("SameIdentity after a round trip is false")
	}
	if attrdDuration(got.Dampen) != "1500ms" || attrdDuration(5*time.Second) != "5s" || attrdDuration(0) != "0s" {
		t.Errorf("attrdDuration: %s %s %s", attrdDuration(got.Dampen), attrdDuration(5*time.Second), attrdDuration(0))
	}
}

// TestStopped checks the actions of a resource that never started: the
// state directory is empty, so no process or attribute is involved.
func TestStopped(t *testing.T) {
	base := map[string]string{"OCF_RESKEY_interfaces": "eth0", "OCF_RESOURCE_INSTANCE": "lh-clone:0"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code ocf.ExitCode
	}{
		{"probe", with(), []string{"monitor"}, ocf.ErrNotRunning},
		{"probe, interval 0", with("OCF_RESKEY_CRM_meta_interval", "0"), []string{"monitor"}, ocf.ErrNotRunning},
		{"recurring monitor", with("OCF_RESKEY_CRM_meta_interval", "10000"), []string{"monitor"}, ocf.ErrNotRunning},
		{"status", with(), []string{"status"}, ocf.ErrNotRunning},
		// Parameters that are wrong together never make a probe fail with 6.
		{"probe, min_healthy too high", with("OCF_RESKEY_min_healthy", "5"), []string{"monitor"}, ocf.ErrNotRunning},
		{"probe, bad target", with("OCF_RESKEY_arp_targets", "nonsense@eth9"), []string{"monitor"}, ocf.ErrNotRunning},
		{"stop", with(), []string{"stop"}, ocf.Success},
		{"stop, bad parameters", with("OCF_RESKEY_fail_count", "zero", "OCF_RESKEY_interfaces", "bad/name"), []string{"stop"}, ocf.Success},
		{"reload-agent", with(), []string{"reload-agent"}, ocf.Success},
		{"unknown action", with(), []string{"promote"}, ocf.ErrUnimplemented},
		{"unknown helper", with(), []string{"__nothing"}, ocf.ErrUnimplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := ocftest.Run(t, Agent{}, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("%v = %d, want %d; stderr:\n%s", tt.args, code, tt.code, stderr)
			}
		})
	}
}

func TestValidateHostChecks(t *testing.T) {
	env := map[string]string{"OCF_RESKEY_interfaces": "lo lhnope9", "OCF_CHECK_LEVEL": "10"}
	code, _, stderr := ocftest.Run(t, Agent{}, env, "validate-all")
	reason, _ := ocftest.ExitReason(stderr)
	if code != ocf.ErrArgs || !strings.Contains(reason, "lhnope9 does not exist") {
		t.Errorf("validate-all level 10, missing interface = %d %q, want 2 naming lhnope9", code, reason)
	}
	env["OCF_CHECK_LEVEL"] = "0"
	if code, _, stderr := ocftest.Run(t, Agent{}, env, "validate-all"); code != ocf.Success {
		t.Errorf("validate-all level 0, missing interface = %d, want 0: %s", code, stderr)
	}

	t.Setenv("PATH", t.TempDir())
	env = map[string]string{"OCF_RESKEY_interfaces": "lo", "OCF_CHECK_LEVEL": "10"}
	code, _, stderr = ocftest.Run(t, Agent{}, env, "validate-all")
	reason, _ = ocftest.ExitReason(stderr)
	if code != ocf.ErrInstalled || !strings.Contains(reason, "attrd_updater not found") {
		t.Errorf("validate-all without attrd_updater = %d %q, want 5", code, reason)
	}
	delete(env, "OCF_CHECK_LEVEL")
	code, _, stderr = ocftest.Run(t, Agent{}, env, "start")
	reason, _ = ocftest.ExitReason(stderr)
	if code != ocf.ErrInstalled || !strings.Contains(reason, "attrd_updater not found") {
		t.Errorf("start without attrd_updater = %d %q, want 5", code, reason)
	}
}
