package ocf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeSyslog records what would go to syslog, with the priority.
type fakeSyslog struct {
	mu        sync.Mutex
	lines     []string
	dials     []string
	fail      error
	unleveled bool // dial returns a plain writer
}

func (s *fakeSyslog) add(prio, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, prio+" "+msg)
	return nil
}
func (s *fakeSyslog) Err(m string) error     { return s.add("err", m) }
func (s *fakeSyslog) Warning(m string) error { return s.add("warning", m) }
func (s *fakeSyslog) Info(m string) error    { return s.add("info", m) }
func (s *fakeSyslog) Notice(m string) error  { return s.add("notice", m) }
func (s *fakeSyslog) Write(p []byte) (int, error) {
	return len(p), s.add("text", strings.TrimSuffix(string(p), "\n"))
}

type plainWriter struct{ s *fakeSyslog }

func (w plainWriter) Write(p []byte) (int, error) { return w.s.Write(p) }

func (s *fakeSyslog) dial(facility, tag string) (io.Writer, error) {
	s.mu.Lock()
	s.dials = append(s.dials, facility+" "+tag)
	s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	if s.unleveled {
		return plainWriter{s}, nil
	}
	return s, nil
}

// logAll is an agent action logging at every level, then failing.
func logAll(ctx context.Context, c *Call) error {
	c.Log.Debugf("dbg %d", 1)
	c.Log.Infof("inf")
	c.Log.Warnf("wrn\n")
	c.Log.Errorf("err")
	return errors.New("failed")
}

func TestLogging(t *testing.T) {
	pid := os.Getpid()
	tag := fmt.Sprintf("vip(vip-1)[%d]", pid)
	dated := func(msg string) string {
		return `(?m)^` + regexp.QuoteMeta(tag) + `:\t\d{4}/\d\d/\d\d_\d\d:\d\d:\d\d ` + regexp.QuoteMeta(msg) + `$`
	}
	tests := []struct {
		name       string
		env        []string
		file       bool // set HA_LOGFILE
		debugLog   bool // set HA_DEBUGLOG
		terminal   bool
		sys        *fakeSyslog
		stderr     string   // exact
		fileRe     []string // regexps that must match the log file
		fileNot    []string
		debugLogRe []string
		syslog     []string
		dials      int
	}{
		{name: "stderr by default", stderr: "INFO: inf\nWARNING: wrn\nERROR: err\nERROR: failed\nocf-exit-reason:failed\n"},
		{name: "HA_debug=1", env: []string{"HA_debug=1"},
			stderr: "DEBUG: dbg 1\nINFO: inf\nWARNING: wrn\nERROR: err\nERROR: failed\nocf-exit-reason:failed\n"},
		{name: "HA_debug=0", env: []string{"HA_debug=0"}, stderr: "INFO: inf\nWARNING: wrn\nERROR: err\nERROR: failed\nocf-exit-reason:failed\n"},
		{name: "HA_LOGFILE", file: true, stderr: "ocf-exit-reason:failed\n",
			fileRe:  []string{dated("INFO: inf"), dated("WARNING: wrn"), dated("ERROR: err"), dated("ERROR: failed")},
			fileNot: []string{"DEBUG", "ocf-exit-reason"}},
		{name: "HA_LOGFILE with debug", file: true, env: []string{"HA_debug=yes"}, stderr: "ocf-exit-reason:failed\n",
			fileRe: []string{dated("DEBUG: dbg 1"), dated("INFO: inf")}},
		{name: "HA_DEBUGLOG", file: true, debugLog: true, env: []string{"HA_debug=1"}, stderr: "ocf-exit-reason:failed\n",
			fileRe: []string{dated("DEBUG: dbg 1")}, debugLogRe: []string{dated("DEBUG: dbg 1")}},
		{name: "terminal and file", file: true, terminal: true,
			stderr: "INFO: inf\nWARNING: wrn\nERROR: err\nERROR: failed\nocf-exit-reason:failed\n",
			fileRe: []string{dated("INFO: inf")}},
		{name: "syslog", env: []string{"HA_LOGFACILITY=local5", "HA_debug=1"}, sys: &fakeSyslog{}, dials: 1,
			stderr: "ocf-exit-reason:failed\n",
			syslog: []string{"notice DEBUG: dbg 1", "info INFO: inf", "warning WARNING: wrn", "err ERROR: err", "err ERROR: failed"}},
		{name: "syslog and file", env: []string{"HA_LOGFACILITY=daemon"}, file: true, sys: &fakeSyslog{}, dials: 1,
			stderr: "ocf-exit-reason:failed\n", fileRe: []string{dated("INFO: inf")},
			syslog: []string{"info INFO: inf", "warning WARNING: wrn", "err ERROR: err", "err ERROR: failed"}},
		{name: "syslog without levels", env: []string{"HA_LOGFACILITY=daemon"}, sys: &fakeSyslog{unleveled: true}, dials: 1,
			stderr: "ocf-exit-reason:failed\n",
			syslog: []string{"text INFO: inf", "text WARNING: wrn", "text ERROR: err", "text ERROR: failed"}},
		{name: "syslog unreachable falls back to stderr", env: []string{"HA_LOGFACILITY=daemon"}, sys: &fakeSyslog{fail: errors.New("no /dev/log")}, dials: 1,
			stderr: "INFO: inf\nWARNING: wrn\nERROR: err\nERROR: failed\nocf-exit-reason:failed\n"},
		{name: "HA_LOGFACILITY=none", env: []string{"HA_LOGFACILITY=none"}, sys: &fakeSyslog{},
			stderr: "INFO: inf\nWARNING: wrn\nERROR: err\nERROR: failed\nocf-exit-reason:failed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e := env(append([]string{"OCF_RESOURCE_INSTANCE=vip-1"}, tt.env...)...)
			logfile, debuglog := filepath.Join(dir, "ha.log"), filepath.Join(dir, "ha-debug.log")
			if tt.file {
				e = append(e, "HA_LOGFILE="+logfile)
			}
			if tt.debugLog {
				e = append(e, "HA_DEBUGLOG="+debuglog)
			}
			var opts []Option
			if tt.terminal {
				opts = append(opts, WithTerminal(true))
			}
			if tt.sys != nil {
				opts = append(opts, WithSyslog(tt.sys.dial))
			}
			f := newFake()
			f.fn = logAll
			r := runMainOpts(f, e, opts, "start")
			if r.code != ErrGeneric {
				t.Errorf("code %d", r.code)
			}
			if r.stderr != tt.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, tt.stderr)
			}
			check := func(path string, res, nots []string) {
				data, _ := os.ReadFile(path)
				for _, re := range res {
					if !regexp.MustCompile(re).Match(data) {
						t.Errorf("%s does not match %s:\n%s", filepath.Base(path), re, data)
					}
				}
				for _, s := range nots {
					if strings.Contains(string(data), s) {
						t.Errorf("%s contains %q:\n%s", filepath.Base(path), s, data)
					}
				}
			}
			check(logfile, tt.fileRe, tt.fileNot)
			check(debuglog, tt.debugLogRe, nil)
			if tt.debugLog {
				data, _ := os.ReadFile(debuglog)
				if strings.Contains(string(data), "INFO") {
					t.Errorf("HA_DEBUGLOG has non-debug lines:\n%s", data)
				}
			}
			if tt.sys != nil {
				if got := strings.Join(tt.sys.lines, "\n"); got != strings.Join(tt.syslog, "\n") {
					t.Errorf("syslog:\n%s\nwant:\n%s", got, strings.Join(tt.syslog, "\n"))
				}
				if len(tt.sys.dials) != tt.dials {
					t.Errorf("dialled %d times, want %d", len(tt.sys.dials), tt.dials)
				}
				if tt.dials > 0 {
					if want := strings.TrimPrefix(tt.env[0], "HA_LOGFACILITY=") + " " + tag; tt.sys.dials[0] != want {
						t.Errorf("dial(%s), want dial(%s)", tt.sys.dials[0], want)
					}
				}
			}
		})
	}
}

func TestLogTag(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		env []string
		tag string
	}{
		{nil, "vip(vip-manual)"},
		{[]string{"OCF_RESOURCE_INSTANCE=web-ip"}, "vip(web-ip)"},
		{[]string{"OCF_RESOURCE_TYPE=IPaddr3", "OCF_RESOURCE_INSTANCE=vip-clone:1"}, "IPaddr3(vip-clone:1)"},
	} {
		logfile := filepath.Join(dir, "log")
		os.Remove(logfile)
		f := newFake()
		f.fn = func(ctx context.Context, c *Call) error { c.Log.Infof("hello"); return nil }
		runMain(f, env(append(tt.env, "HA_LOGFILE="+logfile)...), "start")
		data, _ := os.ReadFile(logfile)
		if want := fmt.Sprintf("%s[%d]:\t", tt.tag, os.Getpid()); !strings.HasPrefix(string(data), want) {
			t.Errorf("log line %q, want prefix %q", data, want)
		}
	}
}

func TestMetadataDoesNotDialSyslog(t *testing.T) {
	s := &fakeSyslog{}
	r := runMainOpts(newFake(), []string{"HA_LOGFACILITY=daemon"}, []Option{WithSyslog(s.dial)}, "meta-data")
	if r.code != Success || len(s.dials) != 0 {
		t.Errorf("code %d, %d dials", r.code, len(s.dials))
	}
}

func TestNilLogger(t *testing.T) {
	var l *Logger
	l.Debugf("x")
	l.Infof("x")
	l.Warnf("x")
	l.Errorf("x")
}

func TestLoggerConcurrent(t *testing.T) {
	logfile := filepath.Join(t.TempDir(), "log")
	f := newFake()
	f.fn = func(ctx context.Context, c *Call) error {
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 10; j++ {
					c.Log.Infof("g%d line %d", i, j)
				}
			}()
		}
		wg.Wait()
		return nil
	}
	runMain(f, env("HA_LOGFILE="+logfile), "start")
	data, _ := os.ReadFile(logfile)
	if n := strings.Count(string(data), "\n"); n != 80 {
		t.Errorf("%d lines, want 80", n)
	}
}
