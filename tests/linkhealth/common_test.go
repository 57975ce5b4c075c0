//go:build integration || vmtest

// Helpers shared by the integration tests (world_test.go) and the guest
// half of the bond tests (bond_guest_test.go, vmtest): the log of the
// attrd_updater double, the watcher processes and the state directory.

package linkhealth

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// attrdCall is one attrd_updater call the double logged.
type attrdCall struct {
	at   time.Time
	args []string
}

// arg returns the value after flag, or "".
func (c attrdCall) arg(flag string) string {
	for i, a := range c.args {
		if a == flag && i+1 < len(c.args) {
			return c.args[i+1]
		}
	}
	return ""
}

func (c attrdCall) has(flag string) bool { return slices.Contains(c.args, flag) }

func (c attrdCall) String() string { return strings.Join(c.args, " ") }

// readAttrdLog returns every call the attrd_updater double logged so far in
// dir/attrd.log, whose lines are "<EPOCHREALTIME> <args>" (bash and busybox
// ash both write seconds, a dot and microseconds). The timestamp is parsed
// as integers, keeping full microsecond precision.
func readAttrdLog(t testing.TB, dir string) []attrdCall {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "attrd.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs []attrdCall
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		sec, frac, _ := strings.Cut(fields[0], ".")
		s, err1 := strconv.ParseInt(sec, 10, 64)
		us, err2 := strconv.ParseInt((frac + "000000")[:6], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("attrd log line %q: bad timestamp", sc.Text())
		}
		cs = append(cs, attrdCall{at: time.Unix(s, us*1000), args: fields[1:]})
	}
	return cs
}

// attrdUpdates returns the calls in cs that set attribute name (-n with -B),
// in order.
func attrdUpdates(cs []attrdCall, name string) []attrdCall {
	var us []attrdCall
	for _, c := range cs {
		if c.arg("-n") == name && c.has("-B") {
			us = append(us, c)
		}
	}
	return us
}

// attrdValues returns the values (-B) of cs, in order.
func attrdValues(cs []attrdCall) []string {
	var vs []string
	for _, c := range cs {
		vs = append(vs, c.arg("-B"))
	}
	return vs
}

// waitAttrdUpdate waits up to timeout until the double in dir has logged
// attribute name set to value at or after since, and returns that call;
// on timeout it fails t, showing the values so far and watcherLog().
func waitAttrdUpdate(t testing.TB, dir, name, value string, since time.Time, timeout time.Duration, watcherLog func() string) attrdCall {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, c := range attrdUpdates(readAttrdLog(t, dir), name) {
			if c.arg("-B") == value && !c.at.Before(since) {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s=%s not published within %v after %s; values %v\nwatcher log:\n%s",
				name, value, timeout, since.Format("15:04:05.000"),
				attrdValues(attrdUpdates(readAttrdLog(t, dir), name)), watcherLog())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// watchers returns the pids of linkhealth watchers whose state lives in dir.
func watchers(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if !bytes.Contains(cmd, []byte("\x00__watch")) {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if bytes.Contains(env, []byte("HANET_LINKHEALTH_STATE="+dir+"/")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stateFiles lists the agent's state directory dir, action lock files
// excepted.
func stateFiles(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".lock") {
			names = append(names, e.Name())
		}
	}
	return names
}
