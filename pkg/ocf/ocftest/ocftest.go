// Package ocftest is test support for hanet's resource agents: it runs an
// agent through ocf.Main without a process and validates its meta-data with
// xmllint against the schemas ocf-tester and Pacemaker use.
//
// It is for _test.go files only. Unlike pkg/ocf it executes a program
// (xmllint, from libxml2-utils); a missing xmllint fails the test rather
// than skipping it, because CI installs it.
package ocftest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hanet/hanet/pkg/ocf"
)

// SystemDir is where Debian's resource-agents package installs
// ra-api-1.dtd and metadata.rng; ocf-tester validates meta-data there.
const SystemDir = "/usr/share/resource-agents"

// Doctype is the line the OCF 1.0 meta-data form must carry: without it
// ocf-tester's "xmllint --noout --valid" fails ("no DTD found").
const Doctype = `<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">`

// testdataDir returns the absolute path of pkg/ocf/testdata, found from this
// source file so tests of any package can use it.
func testdataDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("ocftest: cannot locate own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// SchemaPath returns the absolute path of the OCF 1.1 RELAX NG schema
// (ClusterLabs OCF-spec ra/1.1/ra-api.rng), kept in pkg/ocf/testdata.
func SchemaPath() string { return filepath.Join(testdataDir(), "ra-api-1.1.rng") }

// DTDPath returns the ra-api-1.dtd that DTD validation uses: the installed
// one in SystemDir (what ocf-tester reads) when present, else the copy in
// pkg/ocf/testdata.
func DTDPath() string {
	if p := filepath.Join(SystemDir, "ra-api-1.dtd"); exists(p) {
		return p
	}
	return filepath.Join(testdataDir(), "ra-api-1.dtd")
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ErrNoXmllint is returned (wrapped) by ValidateMetadata when xmllint is not
// installed.
var ErrNoXmllint = errors.New("xmllint not found in PATH: install libxml2-utils (apt-get install libxml2-utils; CI installs it)")

// xmllint runs xmllint with args on doc as standard input, in dir when not
// empty, and returns its complaints.
func xmllint(doc []byte, dir string, args ...string) error {
	path, err := exec.LookPath("xmllint")
	if err != nil {
		return ErrNoXmllint
	}
	cmd := exec.Command(path, append(args, "-")...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(doc)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("xmllint %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// ValidateMetadata checks one meta-data document of the given form.
//
// Every form must pass the OCF 1.1 RELAX NG schema (SchemaPath). The OCF10
// form must also pass ocf-tester's own check, "xmllint --noout --valid
// --path /usr/share/resource-agents -" (falling back to the DTD copy in
// pkg/ocf/testdata where resource-agents is not installed), carry the
// DOCTYPE line, pass /usr/share/resource-agents/metadata.rng when present,
// say <version>1.0</version> and avoid everything ra-api-1.dtd lacks:
// reload-agent, reloadable, unique-group, select. The OCF11 form must say
// <version>1.1</version> and have no DOCTYPE. Neither may list the legacy
// reload action or hidden "__" actions, or use type="time".
//
// A missing xmllint is reported as an error wrapping ErrNoXmllint.
func ValidateMetadata(doc []byte, form ocf.Form) error {
	var errs []error
	if _, err := exec.LookPath("xmllint"); err != nil {
		return ErrNoXmllint
	}
	// --path lets a DOCTYPE resolve, sparing warnings in the schema runs.
	dirs := SystemDir + ":" + testdataDir()
	if err := xmllint(doc, "", "--noout", "--path", dirs, "--relaxng", SchemaPath()); err != nil {
		errs = append(errs, fmt.Errorf("OCF 1.1 schema: %w", err))
	}
	md, err := parse(doc)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	hasDoctype := bytes.Contains(doc, []byte(Doctype))
	switch form {
	case ocf.OCF10:
		dir := SystemDir
		if !exists(dir) {
			dir = testdataDir()
		}
		if err := xmllint(doc, dir, "--noout", "--valid", "--path", dirs); err != nil {
			errs = append(errs, fmt.Errorf("ra-api-1.dtd (ocf-tester): %w", err))
		}
		if rng := filepath.Join(SystemDir, "metadata.rng"); exists(rng) {
			if err := xmllint(doc, "", "--noout", "--path", dirs, "--relaxng", rng); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", rng, err))
			}
		}
		if !hasDoctype {
			errs = append(errs, fmt.Errorf("1.0 form: no %s line (ocf-tester fails without it)", Doctype))
		}
		if md.Version != "1.0" {
			errs = append(errs, fmt.Errorf("1.0 form: <version>%s</version>, want 1.0", md.Version))
		}
		for _, p := range md.Params {
			if p.Reloadable != "" {
				errs = append(errs, fmt.Errorf("1.0 form: parameter %s has reloadable", p.Name))
			}
			if p.UniqueGroup != "" {
				errs = append(errs, fmt.Errorf("1.0 form: parameter %s has unique-group", p.Name))
			}
			if p.Content.Type == "select" || len(p.Content.Options) > 0 {
				errs = append(errs, fmt.Errorf("1.0 form: parameter %s is a select", p.Name))
			}
		}
		for _, a := range md.Actions {
			if a.Name == "reload-agent" {
				errs = append(errs, errors.New("1.0 form lists reload-agent"))
			}
		}
	case ocf.OCF11:
		if hasDoctype || bytes.Contains(doc, []byte("<!DOCTYPE")) {
			errs = append(errs, errors.New("1.1 form has a DOCTYPE"))
		}
		if md.Version != "1.1" {
			errs = append(errs, fmt.Errorf("1.1 form: <version>%s</version>, want 1.1", md.Version))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown form %d", form))
	}
	for _, p := range md.Params {
		if p.Content.Type == "time" {
			errs = append(errs, fmt.Errorf("parameter %s: type time fails the RELAX NG schemas", p.Name))
		}
	}
	for _, a := range md.Actions {
		if a.Name == "reload" || strings.HasPrefix(a.Name, "__") {
			errs = append(errs, fmt.Errorf("action %s must not be advertised", a.Name))
		}
	}
	return errors.Join(errs...)
}

// metadata is the part of a meta-data document the checks read.
type metadata struct {
	XMLName xml.Name `xml:"resource-agent"`
	Name    string   `xml:"name,attr"`
	Version string   `xml:"version"`
	Params  []struct {
		Name        string `xml:"name,attr"`
		Required    string `xml:"required,attr"`
		Unique      string `xml:"unique,attr"`
		UniqueGroup string `xml:"unique-group,attr"`
		Reloadable  string `xml:"reloadable,attr"`
		Content     struct {
			Type    string `xml:"type,attr"`
			Default string `xml:"default,attr"`
			Options []struct {
				Value string `xml:"value,attr"`
			} `xml:"option"`
		} `xml:"content"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name    string `xml:"name,attr"`
		Timeout string `xml:"timeout,attr"`
	} `xml:"actions>action"`
}

func parse(doc []byte) (*metadata, error) {
	var md metadata
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	if err := d.Decode(&md); err != nil {
		return nil, fmt.Errorf("parse meta-data: %w", err)
	}
	return &md, nil
}

// Metadata renders agent's meta-data through ocf.Main as Pacemaker asks for
// it: form OCF11 with OCF_RA_VERSION_MAJOR=1 and OCF_RA_VERSION_MINOR=1,
// form OCF10 with neither set (as ocf-tester runs it). It fails t unless
// meta-data exits 0 with nothing on stderr.
func Metadata(t testing.TB, agent ocf.Agent, form ocf.Form) []byte {
	t.Helper()
	env := map[string]string{}
	if form == ocf.OCF11 {
		env["OCF_RA_VERSION_MAJOR"], env["OCF_RA_VERSION_MINOR"] = "1", "1"
	}
	code, stdout, stderr := run(agent, env, "meta-data")
	if code != ocf.Success || stderr != "" {
		t.Errorf("meta-data (form %d) = %d, stderr %q; want 0 and nothing", form, code, stderr)
	}
	return []byte(stdout)
}

// CheckMetadata checks an agent's parameter table and both meta-data forms:
// Spec().Check() passes; meta-data needs no parameters; each form passes
// ValidateMetadata; OCF 1.0 as ocft announces it (1/0) gives the OCF10
// form; reload-agent appears in the 1.1 form exactly when the agent
// implements ocf.Reloader and the spec lists it, and a spec with reloadable
// parameters lists it. A missing xmllint fails t with a message to install
// libxml2-utils.
func CheckMetadata(t testing.TB, agent ocf.Agent) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal(ErrNoXmllint)
	}
	spec := agent.Spec()
	if err := spec.Check(); err != nil {
		t.Errorf("%s: Spec().Check():\n%v", spec.Name, err)
	}
	_, isReloader := agent.(ocf.Reloader)
	listsReload, hasReloadable := false, false
	for _, a := range spec.Actions {
		listsReload = listsReload || a.Name == "reload-agent"
	}
	for _, p := range spec.Params {
		hasReloadable = hasReloadable || p.Reloadable
	}
	if listsReload && !isReloader {
		t.Errorf("%s: the spec lists reload-agent but the agent has no Reload method (ocf.Reloader)", spec.Name)
	}
	if hasReloadable && !listsReload {
		t.Errorf("%s: reloadable parameters but no reload-agent action in the spec", spec.Name)
	}

	for _, form := range []ocf.Form{ocf.OCF10, ocf.OCF11} {
		doc := Metadata(t, agent, form)
		if err := ValidateMetadata(doc, form); err != nil {
			if errors.Is(err, ErrNoXmllint) {
				t.Fatal(err)
			}
			t.Errorf("%s: meta-data form %s invalid:\n%v\n--- document ---\n%s", spec.Name, formName(form), err, doc)
			continue
		}
		md, err := parse(doc)
		if err != nil {
			t.Errorf("%s: %v", spec.Name, err)
			continue
		}
		lists := false
		for _, a := range md.Actions {
			lists = lists || a.Name == "reload-agent"
		}
		if want := form == ocf.OCF11 && listsReload && isReloader; lists != want {
			t.Errorf("%s: form %s lists reload-agent: %v, want %v", spec.Name, formName(form), lists, want)
		}
	}
	_, v10, _ := run(agent, map[string]string{"OCF_RA_VERSION_MAJOR": "1", "OCF_RA_VERSION_MINOR": "0"}, "meta-data")
	_, plain, _ := run(agent, nil, "meta-data")
	if v10 != plain {
		t.Errorf("%s: meta-data for OCF 1.0 (ocft) differs from the unversioned (ocf-tester) form", spec.Name)
	}
}

func formName(f ocf.Form) string {
	switch f {
	case ocf.OCF10:
		return "OCF10"
	case ocf.OCF11:
		return "OCF11"
	}
	return fmt.Sprintf("Form(%d)", int(f))
}

// stateDirs gives each test one HA_RSCTMP for all its Run calls.
var stateDirs sync.Map // testing.TB -> string

// Run runs "agent <args...>" through ocf.Main with env as the whole
// environment and returns the exit code, stdout and stderr. args start with
// the action and may hold flags ("start", "--ip", "192.0.2.10"). Unless env
// sets HA_RSCTMP, the state directory is a temporary directory shared by
// all Run calls of the same test, so a start and a later monitor see the
// same state files and nothing is written to /run.
func Run(t testing.TB, agent ocf.Agent, env map[string]string, args ...string) (code ocf.ExitCode, stdout, stderr string) {
	t.Helper()
	if _, ok := env["HA_RSCTMP"]; !ok {
		dir, ok := stateDirs.Load(t)
		if !ok {
			dir = t.TempDir()
			stateDirs.Store(t, dir)
			t.Cleanup(func() { stateDirs.Delete(t) })
		}
		e := make(map[string]string, len(env)+1)
		for k, v := range env {
			e[k] = v
		}
		e["HA_RSCTMP"] = dir.(string)
		env = e
	}
	return run(agent, env, args...)
}

func run(agent ocf.Agent, env map[string]string, args ...string) (ocf.ExitCode, string, string) {
	environ := make([]string, 0, len(env))
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	sort.Strings(environ)
	var stdout, stderr bytes.Buffer
	argv := append([]string{agent.Spec().Name}, args...)
	code := ocf.Main(context.Background(), agent, argv, environ, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// ExitReason returns the text of the last exit-reason line in stderr
// (prefix "ocf-exit-reason:" removed) and whether that line is the last
// line, as Pacemaker keeps only the last one; "" when there is none.
func ExitReason(stderr string) (reason string, last bool) {
	const prefix = "ocf-exit-reason:"
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if r, ok := strings.CutPrefix(lines[i], prefix); ok {
			return r, i == len(lines)-1
		}
	}
	return "", false
}
