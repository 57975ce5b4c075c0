package ocf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestActions(t *testing.T) {
	tests := []struct {
		name       string
		agent      func(*fakeAgent) Agent
		args       []string
		env        []string
		want       ExitCode
		method     string // agent method called, "" for none
		stdoutHas  string
		reasonHas  string // "" = no exit-reason line expected
		stderrNone bool
	}{
		{name: "start", args: []string{"start"}, method: "Start"},
		{name: "stop", args: []string{"stop"}, method: "Stop"},
		{name: "monitor", args: []string{"monitor"}, method: "Monitor"},
		{name: "status alias", args: []string{"status"}, method: "Monitor"},
		{name: "validate-all", args: []string{"validate-all"}, method: "Validate"},
		{name: "meta-data", args: []string{"meta-data"}, env: []string{}, stdoutHas: "<resource-agent name=\"vip\"", stderrNone: true},
		{name: "meta-data with bad params", args: []string{"meta-data"}, env: []string{"OCF_RESKEY_arp_count=x"}, stdoutHas: "<resource-agent", stderrNone: true},
		{name: "meta-data ignores OCF_OUTPUT_FORMAT", args: []string{"meta-data"}, env: []string{"OCF_OUTPUT_FORMAT=text"}, stdoutHas: "<?xml", stderrNone: true},
		{name: "usage", args: []string{"usage"}, env: []string{}, stdoutHas: "usage: ", stderrNone: true},
		{name: "help", args: []string{"help"}, env: []string{}, stdoutHas: "--arp_count", stderrNone: true},
		{name: "--help", args: []string{"--help"}, env: []string{}, stdoutHas: "--cidr_netmask", stderrNone: true},
		{name: "-h with action", args: []string{"start", "-h"}, env: []string{}, stdoutHas: "usage: ", stderrNone: true},
		{name: "reload-agent without Reloader", args: []string{"reload-agent"}, want: ErrUnimplemented, reasonHas: `action "reload-agent" is not supported by vip`},
		{name: "reload-agent", agent: full, args: []string{"reload-agent"}, method: "Reload"},
		{name: "helper without Helper", args: []string{"__garp"}, want: ErrUnimplemented, reasonHas: `action "__garp" is not supported`},
		{name: "helper", agent: full, args: []string{"__garp"}, method: "Helper"},
		{name: "unknown", args: []string{"frobnicate"}, want: ErrUnimplemented, reasonHas: `action "frobnicate" is not supported by vip`},
		{name: "unknown with Helper", agent: full, args: []string{"frobnicate"}, want: ErrUnimplemented, reasonHas: "not supported"},
		{name: "missing", args: nil, want: ErrUnimplemented, reasonHas: "no action given"},
		{name: "notify", args: []string{"notify"}, want: ErrUnimplemented, reasonHas: "not supported"},
		{name: "promote", args: []string{"promote"}, want: ErrUnimplemented, reasonHas: "not supported"},
		{name: "demote", args: []string{"demote"}, want: ErrUnimplemented, reasonHas: "not supported"},
		{name: "migrate_to", args: []string{"migrate_to"}, want: ErrUnimplemented, reasonHas: "not supported"},
		{name: "legacy reload", agent: full, args: []string{"reload"}, want: ErrUnimplemented, reasonHas: "not supported"},
		{name: "extra arguments ignored", args: []string{"start", "extra", "more"}, method: "Start"},
		{name: "bad flag", args: []string{"start", "--nope"}, want: ErrArgs, reasonHas: "bad command line: unknown flag: --nope"},
		{name: "flag without value", args: []string{"start", "--ip"}, want: ErrArgs, reasonHas: "bad command line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			var a Agent = f
			if tt.agent != nil {
				a = tt.agent(f)
			}
			e := tt.env
			if e == nil {
				e = env()
			}
			r := runMain(a, e, tt.args...)
			if r.code != tt.want {
				t.Errorf("code = %d, want %d; stderr:\n%s", r.code, tt.want, r.stderr)
			}
			if got := f.methods(); got != tt.method {
				t.Errorf("agent methods called = %q, want %q", got, tt.method)
			}
			if tt.stdoutHas != "" && !strings.Contains(r.stdout, tt.stdoutHas) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdoutHas, r.stdout)
			}
			if tt.stdoutHas == "" && r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			if tt.stderrNone && r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
			reason, ok := r.reason("")
			switch {
			case tt.reasonHas == "" && ok:
				t.Errorf("unexpected exit reason %q", reason)
			case tt.reasonHas != "" && !ok:
				t.Errorf("last stderr line is no exit reason:\n%s", r.stderr)
			case tt.reasonHas != "" && !strings.Contains(reason, tt.reasonHas):
				t.Errorf("exit reason %q lacks %q", reason, tt.reasonHas)
			}
			if tt.reasonHas != "" && tt.want == ErrUnimplemented && !strings.Contains(r.stderr, "usage: ") {
				t.Errorf("no usage on stderr for %v:\n%s", tt.args, r.stderr)
			}
			if n := r.countReasons(); n > 1 {
				t.Errorf("%d exit-reason lines, want at most 1:\n%s", n, r.stderr)
			}
		})
	}
}

func full(f *fakeAgent) Agent { return fullAgent{f} }

func TestCallFields(t *testing.T) {
	f := newFake()
	r := runMain(fullAgent{f}, env(
		"OCF_RESOURCE_TYPE=vip2", "OCF_RESOURCE_INSTANCE=vip-clone:1",
		"HA_RSCTMP=/tmp/x", "OCF_RESKEY_CRM_meta_clone_max=2",
	), "__garp")
	if r.code != Success {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	c := f.lastCall(t)
	if c.Action != "__garp" || c.Type != "vip2" || c.Instance != "vip-clone:1" || c.State.Dir != "/tmp/x" {
		t.Errorf("call = action %q type %q instance %q state %q", c.Action, c.Type, c.Instance, c.State.Dir)
	}
	if got := c.Meta("clone_max"); got != "2" {
		t.Errorf("Meta(clone_max) = %q", got)
	}
	if got := c.Getenv("OCF_RESOURCE_TYPE"); got != "vip2" {
		t.Errorf("Getenv = %q", got)
	}
	if f.helpers[0] != "garp" {
		t.Errorf("helper name = %q, want garp", f.helpers[0])
	}
	if c.Stdout == nil || c.Log == nil || c.Params == nil {
		t.Error("Stdout, Log or Params unset")
	}

	f = newFake()
	runMain(f, env(), "status")
	c = f.lastCall(t)
	if c.Action != "monitor" || c.Type != "vip" || c.Instance != "vip-manual" || c.State.Dir != DefaultStateDir {
		t.Errorf("defaults: action %q type %q instance %q state %q", c.Action, c.Type, c.Instance, c.State.Dir)
	}
}

func TestExitCodes(t *testing.T) {
	recurring := "OCF_RESKEY_CRM_meta_interval=10000"
	probe := "OCF_RESKEY_CRM_meta_interval=0"
	tests := []struct {
		name    string
		agent   func(*fakeAgent) Agent
		action  string
		env     string
		ret     error
		want    ExitCode
		reason  string // substring of the exit reason; "" = none
		logHas  string // substring of the other stderr lines
		logNone bool   // nothing at all on stderr
	}{
		{name: "start ok", action: "start", want: Success, logNone: true},
		{name: "start bare 6", action: "start", ret: ErrConfigured, want: ErrConfigured, reason: "not configured"},
		{name: "start Errorf 6", action: "start", ret: Errorf(ErrConfigured, "cidr_netmask %q: want 0..32", "33"), want: ErrConfigured, reason: `cidr_netmask "33": want 0..32`},
		{name: "start %w wrapped 2", action: "start", ret: fmt.Errorf("start: %w", Errorf(ErrArgs, "nic eth9 absent")), want: ErrArgs, reason: "start: nic eth9 absent"},
		{name: "start %w bare 5", action: "start", ret: fmt.Errorf("bonding module: %w", ErrInstalled), want: ErrInstalled, reason: "bonding module: not installed"},
		{name: "start Wrap 4", action: "start", ret: Wrap(ErrPerm, errors.New("operation not permitted"), "add address"), want: ErrPerm, reason: "add address: operation not permitted"},
		{name: "start plain error", action: "start", ret: errors.New("netlink: busy"), want: ErrGeneric, reason: "netlink: busy", logHas: "ERROR: netlink: busy"},
		{name: "start 3", action: "start", ret: ErrUnimplemented, want: ErrUnimplemented, reason: "unimplemented"},
		{name: "start 7 is 1", action: "start", ret: ErrNotRunning, want: ErrGeneric, reason: "start: resource not running"},
		{name: "start wrapped 7 is 1", action: "start", ret: Errorf(ErrNotRunning, "address vanished"), want: ErrGeneric, reason: "address vanished"},
		{name: "start degraded is 0", action: "start", ret: Errorf(Degraded, "1 of 2 ports"), want: Success, logHas: "WARNING: start: 1 of 2 ports"},
		{name: "start unknown 102", action: "start", ret: ExitCode(102), want: ErrGeneric, reason: "start: unknown exit status 102"},
		{name: "start wrapped 102", action: "start", ret: Errorf(102, "attrd_updater: not connected"), want: ErrGeneric, reason: "attrd_updater: not connected (unknown exit status 102)"},
		{name: "start 8", action: "start", ret: ExitCode(8), want: ErrGeneric, reason: "unknown exit status 8"},
		{name: "start outermost code wins", action: "start", ret: Errorf(ErrGeneric, "rollback: %w", Errorf(ErrConfigured, "inner")), want: ErrGeneric, reason: "rollback: inner"},
		{name: "start multi %w", action: "start", ret: fmt.Errorf("%w; %w", errors.New("a"), ErrInstalled), want: ErrInstalled, reason: "a; not installed"},
		{name: "start empty message", action: "start", ret: Errorf(ErrInstalled, ""), want: ErrInstalled, reason: "not installed"},
		{name: "start blank message", action: "start", ret: errors.New(" \n"), want: ErrGeneric, reason: "generic error"},
		{name: "monitor empty degraded", action: "monitor", ret: Errorf(Degraded, ""), want: Degraded, reason: "degraded"},
		{name: "start Errorf Success", action: "start", ret: Errorf(Success, "fine"), want: Success},

		{name: "stop ok", action: "stop", want: Success, logNone: true},
		{name: "stop 2 is 0", action: "stop", ret: Errorf(ErrArgs, "nic gone"), want: Success, logHas: "WARNING: stop: nic gone: nothing of ours can be active"},
		{name: "stop 5 is 0", action: "stop", ret: ErrInstalled, want: Success, logHas: "WARNING"},
		{name: "stop 6 is 0", action: "stop", ret: fmt.Errorf("x: %w", ErrConfigured), want: Success, logHas: "WARNING"},
		{name: "stop 7 is 0", action: "stop", ret: ErrNotRunning, want: Success, logNone: true},
		{name: "stop 1", action: "stop", ret: errors.New("address still there"), want: ErrGeneric, reason: "address still there"},
		{name: "stop 4", action: "stop", ret: ErrPerm, want: ErrPerm, reason: "insufficient privileges"},
		{name: "stop degraded is 0", action: "stop", ret: Degraded, want: Success},
		{name: "stop 102 is 1", action: "stop", ret: ExitCode(102), want: ErrGeneric, reason: "unknown exit status 102"},

		{name: "monitor 0", action: "monitor", env: recurring, want: Success, logNone: true},
		{name: "monitor bare 7", action: "monitor", env: recurring, ret: ErrNotRunning, want: ErrNotRunning, logNone: true},
		{name: "monitor wrapped 7", action: "monitor", env: recurring, ret: Errorf(ErrNotRunning, "no address"), want: ErrNotRunning, reason: "no address", logHas: "INFO: no address"},
		{name: "probe wrapped 7", action: "monitor", ret: Errorf(ErrNotRunning, "no address"), want: ErrNotRunning, logHas: "INFO: no address"},
		{name: "monitor degraded", action: "monitor", env: recurring, ret: fmt.Errorf("bond0: %w", Errorf(Degraded, "1 of 2 ports up")), want: Degraded, reason: "bond0: 1 of 2 ports up", logHas: "WARNING: bond0: 1 of 2 ports up"},
		{name: "monitor bare degraded", action: "monitor", env: recurring, ret: Degraded, want: Degraded, reason: "degraded"},
		{name: "recurring monitor 6 is 1", action: "monitor", env: recurring, ret: Errorf(ErrConfigured, "nic eth9 vanished"), want: ErrGeneric, reason: "nic eth9 vanished"},
		{name: "recurring monitor 2", action: "monitor", env: recurring, ret: ErrArgs, want: ErrArgs, reason: "invalid argument"},
		{name: "recurring monitor 5", action: "monitor", env: recurring, ret: ErrInstalled, want: ErrInstalled, reason: "not installed"},
		{name: "recurring monitor 1", action: "monitor", env: recurring, ret: errors.New("partial"), want: ErrGeneric, reason: "partial"},
		{name: "recurring monitor 102", action: "monitor", env: recurring, ret: ExitCode(102), want: ErrGeneric, reason: "monitor: unknown exit status 102"},
		{name: "probe 2 is 7", action: "monitor", env: probe, ret: Errorf(ErrArgs, "nic absent"), want: ErrNotRunning, logHas: "INFO: probe: nic absent: not running here"},
		{name: "probe 5 is 7", action: "monitor", env: probe, ret: ErrInstalled, want: ErrNotRunning},
		{name: "probe 6 stays", action: "monitor", env: probe, ret: Errorf(ErrConfigured, "ip unset"), want: ErrConfigured, reason: "ip unset"},
		{name: "probe 7", action: "monitor", ret: ErrNotRunning, want: ErrNotRunning, logNone: true},
		{name: "probe 0", action: "monitor", want: Success},
		{name: "probe degraded", action: "monitor", ret: Degraded, want: Degraded, reason: "degraded"},
		{name: "status probe 2 is 7", action: "status", ret: ErrArgs, want: ErrNotRunning},
		{name: "status recurring 6 is 1", action: "status", env: recurring, ret: ErrConfigured, want: ErrGeneric, reason: "not configured"},

		{name: "validate 0", action: "validate-all", want: Success},
		{name: "validate 6", action: "validate-all", ret: Errorf(ErrConfigured, "bad mode"), want: ErrConfigured, reason: "bad mode"},
		{name: "validate 2", action: "validate-all", ret: ErrArgs, want: ErrArgs, reason: "invalid argument"},
		{name: "validate 5", action: "validate-all", ret: ErrInstalled, want: ErrInstalled, reason: "not installed"},
		{name: "validate 4", action: "validate-all", ret: ErrPerm, want: ErrPerm, reason: "insufficient privileges"},
		{name: "validate 7 is 1", action: "validate-all", ret: ErrNotRunning, want: ErrGeneric, reason: "validate-all: resource not running"},
		{name: "validate degraded is 0", action: "validate-all", ret: Degraded, want: Success},

		{name: "reload-agent 0", agent: full, action: "reload-agent", want: Success},
		{name: "reload-agent 1", agent: full, action: "reload-agent", ret: errors.New("cannot apply"), want: ErrGeneric, reason: "cannot apply"},
		{name: "helper 7 is 1", agent: full, action: "__garp", ret: ErrNotRunning, want: ErrGeneric, reason: "__garp: resource not running"},
		{name: "helper 1", agent: full, action: "__garp", ret: errors.New("raw socket"), want: ErrGeneric, reason: "raw socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			action := tt.action
			if action == "status" {
				action = "monitor"
			}
			f.ret[action] = tt.ret
			var a Agent = f
			if tt.agent != nil {
				a = tt.agent(f)
			}
			e := env()
			if tt.env != "" {
				e = append(e, tt.env)
			}
			r := runMain(a, e, tt.action)
			if r.code != tt.want {
				t.Errorf("code = %d, want %d; stderr:\n%s", r.code, tt.want, r.stderr)
			}
			reason, ok := r.reason("")
			switch {
			case tt.reason == "" && ok:
				t.Errorf("unexpected exit reason %q", reason)
			case tt.reason == "" && r.countReasons() > 0:
				t.Errorf("unexpected exit reason line in:\n%s", r.stderr)
			case tt.reason != "" && !ok:
				t.Errorf("last stderr line is no exit reason:\n%s", r.stderr)
			case tt.reason != "" && !strings.Contains(reason, tt.reason):
				t.Errorf("exit reason %q lacks %q", reason, tt.reason)
			}
			if n := r.countReasons(); n > 1 {
				t.Errorf("%d exit-reason lines:\n%s", n, r.stderr)
			}
			if tt.logHas != "" && !strings.Contains(r.stderr, tt.logHas) {
				t.Errorf("stderr lacks %q:\n%s", tt.logHas, r.stderr)
			}
			if tt.logNone && r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestExitReasonFormat(t *testing.T) {
	t.Run("default prefix, last line, one line", func(t *testing.T) {
		f := newFake()
		f.fn = func(ctx context.Context, c *Call) error {
			c.Log.Infof("first")
			return errors.Join(errors.New("line one"), Errorf(ErrConfigured, "line two\r\nline three\n"))
		}
		r := runMain(f, env(), "start")
		if r.code != ErrConfigured {
			t.Fatalf("code %d", r.code)
		}
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if got, want := lines[len(lines)-1], "ocf-exit-reason:line one; line two; line three"; got != want {
			t.Errorf("last line = %q, want %q\n%s", got, want, r.stderr)
		}
		if lines[0] != "INFO: first" {
			t.Errorf("first line = %q", lines[0])
		}
		if !strings.HasSuffix(r.stderr, "\n") {
			t.Error("stderr does not end in a newline")
		}
	})
	t.Run("OCF_EXIT_REASON_PREFIX", func(t *testing.T) {
		f := newFake()
		f.ret["start"] = errors.New("boom")
		r := runMain(f, env("OCF_EXIT_REASON_PREFIX=XX-reason:"), "start")
		if reason, ok := r.reason("XX-reason:"); !ok || reason != "boom" {
			t.Errorf("reason = %q, %v:\n%s", reason, ok, r.stderr)
		}
		if strings.Contains(r.stderr, "ocf-exit-reason:") {
			t.Errorf("default prefix used:\n%s", r.stderr)
		}
	})
	t.Run("empty prefix means default", func(t *testing.T) {
		f := newFake()
		f.ret["start"] = errors.New("boom")
		r := runMain(f, env("OCF_EXIT_REASON_PREFIX="), "start")
		if reason, ok := r.reason(""); !ok || reason != "boom" {
			t.Errorf("reason = %q, %v", reason, ok)
		}
	})
	t.Run("logs go elsewhere, reason stays on stderr", func(t *testing.T) {
		f := newFake()
		f.ret["start"] = errors.New("boom")
		r := runMain(f, env("HA_LOGFILE="+t.TempDir()+"/log"), "start")
		if r.stderr != "ocf-exit-reason:boom\n" {
			t.Errorf("stderr = %q", r.stderr)
		}
	})
}

func TestPanic(t *testing.T) {
	for _, tt := range []struct {
		action, env string
	}{{"start", ""}, {"monitor", ""}, {"stop", ""}, {"monitor", "OCF_RESKEY_CRM_meta_interval=5000"}} {
		t.Run(tt.action+tt.env, func(t *testing.T) {
			f := newFake()
			f.fn = func(context.Context, *Call) error { panic("boom") }
			r := runMain(f, env(tt.env), tt.action)
			if r.code != ErrGeneric {
				t.Errorf("code = %d, want 1 (a probe must not mask a panic to 7)", r.code)
			}
			if reason, ok := r.reason(""); !ok || reason != "internal error in "+tt.action+": boom" {
				t.Errorf("reason = %q, %v", reason, ok)
			}
			if !strings.Contains(r.stderr, "panic in "+tt.action+": boom") {
				t.Errorf("no panic log:\n%s", r.stderr)
			}
		})
	}
}

func TestInvalidParams(t *testing.T) {
	tests := []struct {
		name, action string
		env          []string
		want         ExitCode
		called       bool
		reason       string
	}{
		{name: "start required unset", action: "start", want: ErrConfigured, reason: "required parameter ip is not set"},
		{name: "start malformed", action: "start", env: []string{"OCF_RESKEY_ip=x", "OCF_RESKEY_arp_count=many"}, want: ErrConfigured, reason: `arp_count="many": not an integer`},
		{name: "validate all errors joined", action: "validate-all", env: []string{"OCF_RESKEY_arp_count=many", "OCF_RESKEY_mode=xor"}, want: ErrConfigured, reason: "required parameter ip is not set; arp_count="},
		{name: "probe 6", action: "monitor", want: ErrConfigured, reason: "required parameter ip"},
		{name: "recurring monitor 1", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_interval=10000"}, want: ErrGeneric, reason: "required parameter ip"},
		{name: "stop goes on", action: "stop", env: []string{"OCF_RESKEY_arp_count=many"}, want: Success, called: true},
		{name: "helper 6", action: "__garp", want: ErrConfigured, reason: "required parameter ip"},
		{name: "reload-agent 6", action: "reload-agent", want: ErrConfigured, reason: "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			r := runMain(fullAgent{f}, tt.env, tt.action)
			if r.code != tt.want {
				t.Errorf("code = %d, want %d\n%s", r.code, tt.want, r.stderr)
			}
			if called := f.methods() != ""; called != tt.called {
				t.Errorf("agent called = %v, want %v", called, tt.called)
			}
			reason, ok := r.reason("")
			if tt.reason != "" && (!ok || !strings.Contains(reason, tt.reason)) {
				t.Errorf("reason = %q, want it to contain %q\n%s", reason, tt.reason, r.stderr)
			}
			if tt.called {
				c := f.lastCall(t)
				if len(c.Invalid) != 2 { // ip unset, arp_count malformed
					t.Errorf("Invalid = %v", c.Invalid)
				}
				if got := c.Params.Int("arp_count"); got != 5 {
					t.Errorf("arp_count = %d, want the default 5 for a lenient stop", got)
				}
				if !strings.Contains(r.stderr, "WARNING: stop with invalid parameters") {
					t.Errorf("no warning:\n%s", r.stderr)
				}
			}
		})
	}
}

func TestProbeDetection(t *testing.T) {
	tests := []struct {
		name     string
		action   string
		env      []string
		args     []string
		probe    bool
		interval time.Duration
	}{
		{name: "absent", action: "monitor", probe: true},
		{name: "empty", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_interval="}, probe: true},
		{name: "zero", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_interval=0"}, probe: true},
		{name: "10000", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_interval=10000"}, interval: 10 * time.Second},
		{name: "spaces", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_interval= 20000 "}, interval: 20 * time.Second},
		{name: "garbage", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_interval=ten"}, probe: true},
		{name: "status absent", action: "status", probe: true},
		{name: "status 10000", action: "status", env: []string{"OCF_RESKEY_CRM_meta_interval=10000"}, interval: 10 * time.Second},
		{name: "flag", action: "monitor", args: []string{"--interval", "15s"}, interval: 15 * time.Second},
		{name: "flag 0 beats env", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_interval=10000"}, args: []string{"--interval=0"}, probe: true},
		{name: "start is no probe", action: "start"},
		{name: "start keeps interval", action: "start", env: []string{"OCF_RESKEY_CRM_meta_interval=10000"}, interval: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			r := runMain(f, env(tt.env...), append([]string{tt.action}, tt.args...)...)
			if r.code != Success {
				t.Fatalf("code %d: %s", r.code, r.stderr)
			}
			c := f.lastCall(t)
			if c.Probe != tt.probe || c.Interval != tt.interval {
				t.Errorf("Probe, Interval = %v, %v; want %v, %v", c.Probe, c.Interval, tt.probe, tt.interval)
			}
		})
	}
}

func TestCheckLevel(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
		want int
	}{
		{name: "unset", want: 0},
		{name: "OCF_CHECK_LEVEL", env: []string{"OCF_CHECK_LEVEL=10"}, want: 10},
		{name: "OCF_RESKEY_OCF_CHECK_LEVEL", env: []string{"OCF_RESKEY_OCF_CHECK_LEVEL=20"}, want: 20},
		{name: "both: unprefixed wins", env: []string{"OCF_CHECK_LEVEL=10", "OCF_RESKEY_OCF_CHECK_LEVEL=20"}, want: 10},
		{name: "empty falls to prefixed", env: []string{"OCF_CHECK_LEVEL=", "OCF_RESKEY_OCF_CHECK_LEVEL=10"}, want: 10},
		{name: "spaces", env: []string{"OCF_CHECK_LEVEL= 10 "}, want: 10},
		{name: "garbage", env: []string{"OCF_CHECK_LEVEL=deep"}, want: 0},
		{name: "negative", env: []string{"OCF_CHECK_LEVEL=-5"}, want: 0},
		{name: "flag wins", env: []string{"OCF_CHECK_LEVEL=20"}, args: []string{"--check-level", "10"}, want: 10},
	}
	for _, tt := range tests {
		for _, action := range []string{"validate-all", "monitor"} {
			t.Run(tt.name+"/"+action, func(t *testing.T) {
				f := newFake()
				r := runMain(f, env(tt.env...), append([]string{action}, tt.args...)...)
				if r.code != Success {
					t.Fatalf("code %d: %s", r.code, r.stderr)
				}
				if got := f.lastCall(t).CheckLevel; got != tt.want {
					t.Errorf("CheckLevel = %d, want %d", got, tt.want)
				}
			})
		}
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name     string
		agent    func(*fakeAgent) Agent
		action   string
		env      []string
		args     []string
		timeout  time.Duration
		deadline time.Duration // 0 = none expected
	}{
		{name: "meta timeout", action: "start", env: []string{"OCF_RESKEY_CRM_meta_timeout=20000"}, timeout: 20 * time.Second, deadline: 18 * time.Second},
		{name: "long meta timeout, margin capped at 2s", action: "stop", env: []string{"OCF_RESKEY_CRM_meta_timeout=120000"}, timeout: 120 * time.Second, deadline: 118 * time.Second},
		{name: "short, margin 100ms", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_timeout=500"}, timeout: 500 * time.Millisecond, deadline: 400 * time.Millisecond},
		{name: "tiny, half", action: "monitor", env: []string{"OCF_RESKEY_CRM_meta_timeout=50"}, timeout: 50 * time.Millisecond, deadline: 25 * time.Millisecond},
		{name: "spec default start", action: "start", timeout: 20 * time.Second, deadline: 18 * time.Second},
		{name: "spec default stop", action: "stop", timeout: 25 * time.Second, deadline: 23 * time.Second},
		{name: "spec default validate-all", action: "validate-all", timeout: 1500 * time.Millisecond, deadline: 1350 * time.Millisecond},
		{name: "status uses monitor's", action: "status", timeout: 20 * time.Second, deadline: 18 * time.Second},
		{name: "reload-agent without timeout: default", agent: full, action: "reload-agent", timeout: DefaultTimeout, deadline: 18 * time.Second},
		{name: "garbage falls back", action: "start", env: []string{"OCF_RESKEY_CRM_meta_timeout=soon"}, timeout: 20 * time.Second, deadline: 18 * time.Second},
		{name: "flag wins", action: "start", env: []string{"OCF_RESKEY_CRM_meta_timeout=20000"}, args: []string{"--timeout", "5s"}, timeout: 5 * time.Second, deadline: 4500 * time.Millisecond},
		{name: "helper has none", agent: full, action: "__garp", env: []string{"OCF_RESKEY_CRM_meta_timeout=20000"}},
		{name: "helper with flag", agent: full, action: "__garp", args: []string{"--timeout=10s"}, timeout: 10 * time.Second, deadline: 9 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			var a Agent = f
			if tt.agent != nil {
				a = tt.agent(f)
			}
			before := time.Now()
			r := runMain(a, env(tt.env...), append([]string{tt.action}, tt.args...)...)
			after := time.Now()
			if r.code != Success {
				t.Fatalf("code %d: %s", r.code, r.stderr)
			}
			c := f.lastCall(t)
			if c.Timeout != tt.timeout {
				t.Errorf("Timeout = %v, want %v", c.Timeout, tt.timeout)
			}
			dl, ok := f.ctxs[0].Deadline()
			if tt.deadline == 0 {
				if ok {
					t.Errorf("deadline set (%v), want none", dl.Sub(before))
				}
				return
			}
			if !ok {
				t.Fatal("no deadline")
			}
			if dl.Before(before.Add(tt.deadline)) || dl.After(after.Add(tt.deadline)) {
				t.Errorf("deadline in %v, want %v", dl.Sub(before), tt.deadline)
			}
		})
	}
}

func TestDeadlineExceeded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ret    func(ctx context.Context) error
		want   ExitCode
		reason string
	}{
		{name: "ctx.Err", ret: func(ctx context.Context) error { return ctx.Err() }, want: ErrGeneric,
			reason: "context deadline exceeded (operation timeout 150ms)"},
		{name: "wrapped", ret: func(ctx context.Context) error { return fmt.Errorf("wait for DAD: %w", ctx.Err()) }, want: ErrGeneric,
			reason: "wait for DAD: context deadline exceeded (operation timeout 150ms)"},
		{name: "unrelated error after deadline", ret: func(context.Context) error { return errors.New("netlink: busy") }, want: ErrGeneric,
			reason: "netlink: busy (context deadline exceeded) (operation timeout 150ms)"},
		{name: "coded error keeps its code", ret: func(context.Context) error { return Errorf(ErrArgs, "no carrier") }, want: ErrArgs,
			reason: "no carrier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			f.fn = func(ctx context.Context, c *Call) error {
				<-ctx.Done()
				return tt.ret(ctx)
			}
			r := runMain(f, env("OCF_RESKEY_CRM_meta_timeout=150"), "start")
			if r.code != tt.want {
				t.Errorf("code = %d, want %d", r.code, tt.want)
			}
			if reason, ok := r.reason(""); !ok || reason != tt.reason {
				t.Errorf("reason = %q, want %q", reason, tt.reason)
			}
		})
	}
	t.Run("parent cancelled", func(t *testing.T) {
		f := newFake()
		f.fn = func(ctx context.Context, c *Call) error { <-ctx.Done(); return ctx.Err() }
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		code := Main(ctx, f, []string{"vip", "start"}, env(), io.Discard, io.Discard)
		if code != ErrGeneric {
			t.Errorf("code = %d", code)
		}
	})
}

func TestFlagsAndEnvironment(t *testing.T) {
	params := func(t *testing.T, e []string, args ...string) map[string]string {
		t.Helper()
		f := newFake()
		r := runMain(f, e, args...)
		if r.code != Success {
			t.Fatalf("%v: code %d: %s", args, r.code, r.stderr)
		}
		c := f.lastCall(t)
		m := c.Params.Map()
		for _, p := range f.spec.Params {
			if c.Params.IsSet(p.Name) {
				m["set:"+p.Name] = "1"
			}
		}
		return m
	}
	viaEnv := params(t, []string{"OCF_RESKEY_ip=192.0.2.10", "OCF_RESKEY_cidr_netmask=24"}, "start")
	for _, args := range [][]string{
		{"start", "--ip", "192.0.2.10", "--cidr_netmask", "24"},
		{"start", "--ip=192.0.2.10", "--cidr_netmask=24"},
		{"--ip", "192.0.2.10", "start", "--cidr_netmask", "24"},
	} {
		if got := params(t, nil, args...); !reflect.DeepEqual(got, viaEnv) {
			t.Errorf("%v:\n got %v\nwant %v", args, got, viaEnv)
		}
	}
	mixed := params(t, []string{"OCF_RESKEY_ip=192.0.2.10"}, "start", "--cidr_netmask", "24")
	if !reflect.DeepEqual(mixed, viaEnv) {
		t.Errorf("mixed:\n got %v\nwant %v", mixed, viaEnv)
	}
	wins := params(t, []string{"OCF_RESKEY_ip=192.0.2.1", "OCF_RESKEY_cidr_netmask=16"}, "start", "--ip", "192.0.2.10", "--cidr_netmask", "24")
	if !reflect.DeepEqual(wins, viaEnv) {
		t.Errorf("flags win:\n got %v\nwant %v", wins, viaEnv)
	}
	empty := params(t, []string{"OCF_RESKEY_ip=192.0.2.10", "OCF_RESKEY_label=mine"}, "start", "--label", "")
	if empty["label"] != "vip" || empty["set:label"] != "" {
		t.Errorf("empty flag: label = %q set %q, want the default and unset", empty["label"], empty["set:label"])
	}
	later := params(t, []string{"OCF_RESKEY_ip=192.0.2.1", "OCF_RESKEY_ip=192.0.2.10", "OCF_RESKEY_cidr_netmask=24"}, "start")
	if !reflect.DeepEqual(later, viaEnv) {
		t.Errorf("later environment entry should win:\n got %v\nwant %v", later, viaEnv)
	}
	bad := runMain(newFake(), nil, "start", "--ip", "192.0.2.10", "--arp_count", "-3")
	if bad.code != ErrConfigured {
		t.Errorf("bad flag value: code %d, want 6", bad.code)
	}
}

func TestKnobClash(t *testing.T) {
	f := newFake()
	f.spec.Params = append(f.spec.Params,
		Param{Name: "timeout", Type: Duration, Default: "3s", Short: "ping timeout"},
		Param{Name: "interval", Type: Integer, Short: "an interval"},
		Param{Name: "help", Type: String, Short: "help text"},
	)
	r := runMain(f, env("OCF_RESKEY_CRM_meta_timeout=20000"), "monitor", "--timeout", "7s", "--interval", "9", "--help", "me", "--check-level", "10")
	if r.code != Success {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	c := f.lastCall(t)
	if c.Params.Duration("timeout") != 7*time.Second || c.Params.Int("interval") != 9 || c.Params.String("help") != "me" {
		t.Errorf("params = %v", c.Params.Map())
	}
	if c.Timeout != 20*time.Second || !c.Probe || c.CheckLevel != 10 {
		t.Errorf("Timeout %v Probe %v CheckLevel %d", c.Timeout, c.Probe, c.CheckLevel)
	}
}

func TestMetadataAction(t *testing.T) {
	for _, tt := range []struct {
		name       string
		agent      func(*fakeAgent) Agent
		env        []string
		version    string
		reloadable bool
	}{
		{name: "unversioned", version: "1.0"},
		{name: "ocft 1/0", env: []string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=0"}, version: "1.0"},
		{name: "1.1 without Reloader", env: []string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1"}, version: "1.1"},
		{name: "1.1 with Reloader", agent: full, env: []string{"OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1"}, version: "1.1", reloadable: true},
		{name: "1.0 with Reloader", agent: full, version: "1.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			var a Agent = f
			if tt.agent != nil {
				a = tt.agent(f)
			}
			r := runMain(a, tt.env, "meta-data")
			if r.code != Success || r.stderr != "" {
				t.Fatalf("code %d stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "<version>"+tt.version+"</version>") {
				t.Errorf("version is not %s:\n%s", tt.version, r.stdout)
			}
			if got := strings.Contains(r.stdout, `"reload-agent"`); got != tt.reloadable {
				t.Errorf("lists reload-agent = %v, want %v", got, tt.reloadable)
			}
			if len(f.spec.Actions) != len(testSpec().Actions) {
				t.Error("meta-data modified the agent's spec")
			}
		})
	}
}

func TestUsage(t *testing.T) {
	r := runMain(newFake(), nil, "usage")
	for _, want := range []string{
		"usage: /usr/lib/ocf/resource.d/hanet/vip {start|stop|monitor|status|validate-all|meta-data|reload-agent|usage|help}",
		"Virtual IP address",
		"--ip string", "--timeout duration", "--interval duration", "--check-level int", "-h, --help",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("usage lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestMargin(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{
		{20 * time.Second, 2 * time.Second},
		{10 * time.Second, time.Second},
		{5 * time.Second, 500 * time.Millisecond},
		{time.Second, 100 * time.Millisecond},
		{500 * time.Millisecond, 100 * time.Millisecond},
		{100 * time.Millisecond, 50 * time.Millisecond},
		{time.Hour, 2 * time.Second},
	} {
		if got := margin(tt.in); got != tt.want {
			t.Errorf("margin(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
