package ocf

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// testSpec is a vip-like table with every parameter type and feature.
func testSpec() *Spec {
	return &Spec{
		Name:    "vip",
		Version: "0.1.0",
		Short:   "Virtual IP address",
		Long:    "Manages a virtual IP address <with> markup & \"quotes\".",
		Params: []Param{
			{Name: "ip", Type: String, Required: true, Unique: true, UniqueGroup: "address",
				Short: "Virtual IP address", Long: "IPv4 or IPv6 address to take over."},
			{Name: "cidr_netmask", Type: Integer, Min: Int64(0), Max: Int64(128), UniqueGroup: "address",
				Short: "Prefix length"},
			{Name: "arp_count", Type: Integer, Default: "5", Min: Int64(0), Max: Int64(100), Reloadable: true,
				Short: "GARP rounds on start"},
			{Name: "arp_bg", Type: Boolean, Default: "true", Reloadable: true, Short: "Send GARPs in the background"},
			{Name: "mode", Type: Select, Default: "active-backup",
				Choices: []string{"balance-rr", "active-backup", "802.3ad"},
				Aliases: map[string]string{"0": "balance-rr", "1": "active-backup", "4": "802.3ad", "lacp": "802.3ad"},
				Short:   "Bond mode"},
			{Name: "arp_interval", Type: Duration, Default: "200ms", Unit: time.Millisecond, Reloadable: true,
				Short: "Pause between GARP rounds"},
			{Name: "dampen", Type: Duration, Default: "5s", Short: "Dampening"},
			{Name: "slaves", Type: List, Short: "Bond ports"},
			{Name: "label", Type: String, Default: "vip", Short: "Address label"},
			{Name: "lvs_support", Type: Boolean, Ignored: true, Short: "LVS support (ignored)"},
		},
		Actions: []ActionSpec{
			{Name: "start", Timeout: 20 * time.Second},
			{Name: "stop", Timeout: 25 * time.Second},
			{Name: "monitor", Timeout: 20 * time.Second, Interval: 10 * time.Second, Depths: true},
			{Name: "monitor", Timeout: 30 * time.Second, Interval: time.Minute, Depth: 10},
			{Name: "status", Timeout: 20 * time.Second, Interval: 10 * time.Second},
			{Name: "validate-all", Timeout: 1500 * time.Millisecond},
			{Name: "meta-data", Timeout: 5 * time.Second},
			{Name: "reload-agent"},
			{Name: "reload", Timeout: 20 * time.Second},
			{Name: "__garp", Timeout: 20 * time.Second},
		},
	}
}

// fakeAgent records every call and returns what ret says for the action.
type fakeAgent struct {
	spec *Spec
	ret  map[string]error                         // per action ("start", "__x", ...)
	fn   func(ctx context.Context, c *Call) error // when set, runs instead of ret

	mu      sync.Mutex
	calls   []*Call
	actions []string
	helpers []string
	ctxs    []context.Context
}

func newFake() *fakeAgent { return &fakeAgent{spec: testSpec(), ret: map[string]error{}} }

func (f *fakeAgent) Spec() *Spec { return f.spec }

func (f *fakeAgent) record(ctx context.Context, method string, c *Call) error {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.actions = append(f.actions, method)
	f.ctxs = append(f.ctxs, ctx)
	fn, err := f.fn, f.ret[c.Action]
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, c)
	}
	return err
}

func (f *fakeAgent) Start(ctx context.Context, c *Call) error    { return f.record(ctx, "Start", c) }
func (f *fakeAgent) Stop(ctx context.Context, c *Call) error     { return f.record(ctx, "Stop", c) }
func (f *fakeAgent) Monitor(ctx context.Context, c *Call) error  { return f.record(ctx, "Monitor", c) }
func (f *fakeAgent) Validate(ctx context.Context, c *Call) error { return f.record(ctx, "Validate", c) }

func (f *fakeAgent) lastCall(t *testing.T) *Call {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("agent was not called")
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeAgent) methods() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.actions, ",")
}

// fullAgent adds reload-agent and hidden helper actions.
type fullAgent struct{ *fakeAgent }

func (f fullAgent) Reload(ctx context.Context, c *Call) error { return f.record(ctx, "Reload", c) }

func (f fullAgent) Helper(ctx context.Context, c *Call, name string) error {
	f.mu.Lock()
	f.helpers = append(f.helpers, name)
	f.mu.Unlock()
	return f.record(ctx, "Helper", c)
}

// minimal required params so non-stop actions get past validation.
var baseEnv = []string{"OCF_RESKEY_ip=192.0.2.10"}

type result struct {
	code           ExitCode
	stdout, stderr string
}

// reason returns the text after the exit-reason prefix on the last stderr
// line, and whether the last line is an exit-reason line at all.
func (r result) reason(prefix string) (string, bool) {
	if prefix == "" {
		prefix = "ocf-exit-reason:"
	}
	s := strings.TrimRight(r.stderr, "\n")
	if s == "" {
		return "", false
	}
	lines := strings.Split(s, "\n")
	return strings.CutPrefix(lines[len(lines)-1], prefix)
}

// countReasons counts exit-reason lines in stderr.
func (r result) countReasons() int {
	n := 0
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "ocf-exit-reason:") {
			n++
		}
	}
	return n
}

func runMain(a Agent, env []string, args ...string) result {
	return runMainOpts(a, env, nil, args...)
}

func runMainOpts(a Agent, env []string, opts []Option, args ...string) result {
	var out, errb bytes.Buffer
	code := Main(context.Background(), a, append([]string{"/usr/lib/ocf/resource.d/hanet/vip"}, args...), env, &out, &errb, opts...)
	return result{code, out.String(), errb.String()}
}

func env(kv ...string) []string { return append(append([]string{}, baseEnv...), kv...) }
