package ocftest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hanet/hanet/pkg/ocf"
)

// agent is a small agent for these tests: state file on start, removed on
// stop, monitor 0 or 7 by the file.
type agent struct {
	spec   *ocf.Spec
	reload bool
}

type reloadAgent struct{ agent }

func (reloadAgent) Reload(context.Context, *ocf.Call) error { return nil }

func newSpec() *ocf.Spec {
	return &ocf.Spec{
		Name: "demo", Version: "1.0.0", Short: "Demo", Long: "A demo agent.",
		Params: []ocf.Param{
			{Name: "name", Type: ocf.String, Required: true, Unique: true, Short: "Name"},
			{Name: "count", Type: ocf.Integer, Default: "3", Reloadable: true, Short: "Count"},
			{Name: "mode", Type: ocf.Select, Choices: []string{"a", "b"}, Default: "a", Short: "Mode"},
		},
		Actions: []ocf.ActionSpec{
			{Name: "start", Timeout: 20 * time.Second}, {Name: "stop", Timeout: 20 * time.Second},
			{Name: "monitor", Timeout: 20 * time.Second, Interval: 10 * time.Second},
			{Name: "validate-all", Timeout: 20 * time.Second}, {Name: "meta-data", Timeout: 5 * time.Second},
			{Name: "reload-agent", Timeout: 20 * time.Second},
		},
	}
}

func (a agent) Spec() *ocf.Spec { return a.spec }
func (a agent) path(c *ocf.Call) string {
	return c.State.Path(c.Type, c.Instance, ".json")
}
func (a agent) Start(ctx context.Context, c *ocf.Call) error {
	return c.State.Save(a.path(c), c.Params.Map())
}
func (a agent) Stop(ctx context.Context, c *ocf.Call) error { return c.State.Remove(a.path(c)) }
func (a agent) Monitor(ctx context.Context, c *ocf.Call) error {
	var m map[string]string
	if err := c.State.Load(a.path(c), &m); errors.Is(err, os.ErrNotExist) {
		return ocf.ErrNotRunning
	} else if err != nil {
		return err
	}
	return nil
}
func (a agent) Validate(ctx context.Context, c *ocf.Call) error {
	if c.Params.String("name") == "bad" {
		return ocf.Errorf(ocf.ErrConfigured, "name %q is bad", "bad")
	}
	return nil
}

// recTB records failures instead of failing the real test.
type recTB struct {
	testing.TB
	mu    sync.Mutex
	errs  []string
	fatal bool
}

func (r *recTB) Helper() {}
func (r *recTB) Errorf(f string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(f, a...))
}
func (r *recTB) Error(a ...any) { r.Errorf("%s", fmt.Sprint(a...)) }
func (r *recTB) Fatal(a ...any) { r.Error(a...); r.fatal = true; runtime.Goexit() }
func (r *recTB) Fatalf(f string, a ...any) {
	r.Errorf(f, a...)
	r.fatal = true
	runtime.Goexit()
}

// check runs CheckMetadata against a recorder in its own goroutine, so a
// Fatal stops only that goroutine.
func check(t *testing.T, a ocf.Agent) *recTB {
	r := &recTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		CheckMetadata(r, a)
	}()
	<-done
	return r
}

func TestCheckMetadataPasses(t *testing.T) {
	if r := check(t, reloadAgent{agent{spec: newSpec()}}); len(r.errs) > 0 {
		t.Errorf("CheckMetadata failed a good agent:\n%s", strings.Join(r.errs, "\n"))
	}
}

func TestCheckMetadataCatches(t *testing.T) {
	tests := []struct {
		name  string
		agent func() ocf.Agent
		want  string
	}{
		{"reload-agent without Reload", func() ocf.Agent { return agent{spec: newSpec()} },
			"lists reload-agent but the agent has no Reload method"},
		{"reloadable without reload-agent", func() ocf.Agent {
			s := newSpec()
			s.Actions = s.Actions[:5]
			return agent{spec: s}
		}, "reloadable parameters but no reload-agent action"},
		{"no parameters", func() ocf.Agent {
			s := newSpec()
			s.Params = nil
			s.Actions = s.Actions[:5]
			return agent{spec: s}
		}, "OCF 1.1 schema"},
		{"select without choices", func() ocf.Agent {
			s := newSpec()
			s.Params[2].Choices, s.Params[2].Default = nil, ""
			return reloadAgent{agent{spec: s}}
		}, "Select without Choices"},
		{"no actions", func() ocf.Agent {
			s := newSpec()
			s.Actions = nil
			for i := range s.Params {
				s.Params[i].Reloadable = false
			}
			return agent{spec: s}
		}, "action start: not listed"},
		{"unknown action name breaks the DTD", func() ocf.Agent {
			s := newSpec()
			s.Actions = append(s.Actions, ocf.ActionSpec{Name: "flush", Timeout: time.Second})
			return reloadAgent{agent{spec: s}}
		}, "ra-api-1.dtd (ocf-tester)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := check(t, tt.agent())
			all := strings.Join(r.errs, "\n")
			if !strings.Contains(all, tt.want) {
				t.Errorf("CheckMetadata errors:\n%s\nwant one containing %q", all, tt.want)
			}
		})
	}
}

func TestValidateMetadataCatches(t *testing.T) {
	good := func(form ocf.Form) string {
		var b bytes.Buffer
		if err := ocf.WriteMetadata(&b, newSpec(), form); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	v10, v11 := good(ocf.OCF10), good(ocf.OCF11)
	for _, tt := range []struct {
		name string
		doc  string
		form ocf.Form
		want []string
	}{
		{"1.1 form as 1.0", v11, ocf.OCF10, []string{"no <!DOCTYPE", "ra-api-1.dtd (ocf-tester)", "<version>1.1</version>, want 1.0",
			"reload-agent", "reloadable", "is a select"}},
		{"1.0 form without DOCTYPE", strings.Replace(v10, Doctype+"\n", "", 1), ocf.OCF10, []string{"no <!DOCTYPE", "ra-api-1.dtd (ocf-tester)"}},
		{"1.0 form as 1.1", v10, ocf.OCF11, []string{"1.1 form has a DOCTYPE", "<version>1.0</version>, want 1.1"}},
		{"time type", strings.Replace(v10, `type="integer"`, `type="time"`, 1), ocf.OCF10, []string{"type time", "OCF 1.1 schema"}},
		{"legacy reload", strings.Replace(v11, `name="reload-agent"`, `name="reload"`, 1), ocf.OCF11, []string{"action reload must not be advertised"}},
		{"hidden action", strings.Replace(v11, `name="reload-agent"`, `name="__garp"`, 1), ocf.OCF11, []string{"action __garp must not"}},
		{"missing lang", strings.Replace(v11, `<shortdesc lang="en">Demo`, `<shortdesc>Demo`, 1), ocf.OCF11, []string{"OCF 1.1 schema"}},
		{"malformed", "<resource-agent", ocf.OCF11, []string{"parse meta-data"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateMetadata([]byte(tt.doc), tt.form)
			if err == nil {
				t.Fatal("ValidateMetadata accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	for _, form := range []ocf.Form{ocf.OCF10, ocf.OCF11} {
		if err := ValidateMetadata([]byte(map[ocf.Form]string{ocf.OCF10: v10, ocf.OCF11: v11}[form]), form); err != nil {
			t.Errorf("good form %d: %v", form, err)
		}
	}
}

func TestNoXmllint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := ValidateMetadata([]byte("<x/>"), ocf.OCF10)
	if !errors.Is(err, ErrNoXmllint) || !strings.Contains(err.Error(), "install libxml2-utils") {
		t.Errorf("ValidateMetadata without xmllint = %v", err)
	}
	r := check(t, reloadAgent{agent{spec: newSpec()}})
	if !r.fatal || len(r.errs) != 1 || !strings.Contains(r.errs[0], "install libxml2-utils") {
		t.Errorf("CheckMetadata without xmllint: fatal %v, errors %q", r.fatal, r.errs)
	}
}

func TestPaths(t *testing.T) {
	for _, p := range []string{SchemaPath(), DTDPath()} {
		if !filepath.IsAbs(p) {
			t.Errorf("%s is not absolute", p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	data, err := os.ReadFile(SchemaPath())
	if err != nil || !bytes.Contains(data, []byte("ClusterLabs OCF-spec, ra/1.1/ra-api.rng")) {
		t.Errorf("schema lacks its origin header: %v", err)
	}
}

func TestRun(t *testing.T) {
	a := reloadAgent{agent{spec: newSpec()}}
	env := map[string]string{"OCF_RESKEY_name": "x", "OCF_RESOURCE_INSTANCE": "demo:0"}
	steps := []struct {
		args []string
		want ocf.ExitCode
	}{
		{[]string{"monitor"}, ocf.ErrNotRunning},
		{[]string{"start"}, ocf.Success},
		{[]string{"monitor"}, ocf.Success},
		{[]string{"stop"}, ocf.Success},
		{[]string{"monitor"}, ocf.ErrNotRunning},
		{[]string{"start", "--name", "bad"}, ocf.Success},
		{[]string{"validate-all", "--name", "bad"}, ocf.ErrConfigured},
		{[]string{"stop"}, ocf.Success},
	}
	for _, s := range steps {
		code, stdout, stderr := Run(t, a, env, s.args...)
		if code != s.want {
			t.Errorf("%v = %d, want %d\nstdout %s\nstderr %s", s.args, code, s.want, stdout, stderr)
		}
	}
	if env["HA_RSCTMP"] != "" {
		t.Error("Run modified the caller's map")
	}
	code, _, stderr := Run(t, a, env, "validate-all", "--name", "bad")
	if reason, last := ExitReason(stderr); code != ocf.ErrConfigured || !last || reason != `name "bad" is bad` {
		t.Errorf("reason %q last %v", reason, last)
	}
	dir := t.TempDir()
	Run(t, a, map[string]string{"OCF_RESKEY_name": "x", "HA_RSCTMP": dir}, "start")
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("HA_RSCTMP not honoured: %v", entries)
	}
}

func TestExitReason(t *testing.T) {
	for _, tt := range []struct {
		stderr, reason string
		last           bool
	}{
		{"", "", false},
		{"ERROR: x\nocf-exit-reason:x\n", "x", true},
		{"ocf-exit-reason:x\nINFO: later\n", "x", false},
		{"ocf-exit-reason:a\nocf-exit-reason:b", "b", true},
	} {
		r, last := ExitReason(tt.stderr)
		if r != tt.reason || last != tt.last {
			t.Errorf("ExitReason(%q) = %q, %v", tt.stderr, r, last)
		}
	}
}
