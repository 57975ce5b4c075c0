package ocf

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUsageLayout pins the usage text to what spf13/pflag's FlagUsages
// printed before the hand-written parser replaced it.
func TestUsageLayout(t *testing.T) {
	f := newFake()
	f.spec = &Spec{Name: "mini", Short: "A mini agent", Params: []Param{
		{Name: "ip", Type: String, Short: "Virtual IP address"},
		{Name: "a_much_longer_parameter_name", Type: Integer, Short: "Long one"},
		{Name: "timeout", Type: Duration, Default: "3s", Short: "ping timeout"},
		{Name: "x", Type: Boolean},
	}}
	r := runMain(f, nil, "usage")
	want := "usage: /usr/lib/ocf/resource.d/hanet/vip {start|stop|monitor|status|validate-all|meta-data|reload-agent|usage|help} [--param value ...]\n" +
		"\n" +
		"A mini agent\n" +
		"\n" +
		"Parameters (flags override OCF_RESKEY_<param>):\n" +
		"      --ip string                             Virtual IP address\n" +
		"      --a_much_longer_parameter_name string   Long one\n" +
		"      --timeout string                        ping timeout\n" +
		"      --x string                              \n" +
		"      --interval duration                     monitor interval; 0 = probe (as OCF_RESKEY_CRM_meta_interval)\n" +
		"      --check-level int                       OCF_CHECK_LEVEL for monitor and validate-all\n" +
		"  -h, --help                                  show this help\n"
	if r.code != Success || r.stdout != want {
		t.Errorf("code %d, usage:\n%s\nwant:\n%s", r.code, r.stdout, want)
	}
}

func TestFlagParse(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		err    string // substring; "" for success
		flags  map[string]string
		rest   []string
		help   bool
		level  int
		timout time.Duration
	}{
		{args: []string{"start", "--ip", "192.0.2.1", "--label=x=y"}, flags: map[string]string{"ip": "192.0.2.1", "label": "x=y"}, rest: []string{"start"}},
		{args: []string{"--ip=", "monitor", "extra"}, flags: map[string]string{"ip": ""}, rest: []string{"monitor", "extra"}},
		{args: []string{"--ip", "-3", "start"}, flags: map[string]string{"ip": "-3"}, rest: []string{"start"}},
		{args: []string{"--ip", "a", "--ip", "b"}, flags: map[string]string{"ip": "b"}},
		{args: []string{"start", "--", "--ip", "-h"}, rest: []string{"start", "--ip", "-h"}},
		{args: []string{"-", "start"}, rest: []string{"-", "start"}},
		{args: []string{"-h"}, help: true},
		{args: []string{"-hh"}, help: true},
		{args: []string{"--help"}, help: true},
		{args: []string{"--help=false", "start"}, rest: []string{"start"}},
		{args: []string{"-h=0", "start"}, rest: []string{"start"}},
		{args: []string{"--check-level", "0x10", "--timeout=1m"}, level: 16, timout: time.Minute},
		{args: []string{"--nope"}, err: "unknown flag: --nope"},
		{args: []string{"--nope=1"}, err: "unknown flag: --nope"},
		{args: []string{"-x"}, err: "unknown shorthand flag: 'x' in -x"},
		{args: []string{"-hx"}, err: "unknown shorthand flag: 'x' in -hx"},
		{args: []string{"--=x"}, err: "bad flag syntax: --=x"},
		{args: []string{"---ip"}, err: "bad flag syntax: ---ip"},
		{args: []string{"start", "--ip"}, err: "flag needs an argument: --ip"},
		{args: []string{"--timeout", "abc"}, err: `invalid argument "abc" for "--timeout" flag`},
		{args: []string{"--check-level=1.5"}, err: `invalid argument "1.5" for "--check-level" flag`},
		{args: []string{"--help=maybe"}, err: `invalid argument "maybe" for "-h, --help" flag`},
		{args: []string{"-h=maybe"}, err: `invalid argument "maybe" for "-h, --help" flag`},
	} {
		fs := &flagSet{}
		fs.add("ip", 0, flagString, "")
		fs.add("label", 0, flagString, "")
		fs.add("ip", 0, flagInt, "") // a duplicate is ignored
		timeout := fs.add("timeout", 0, flagDuration, "")
		level := fs.add("check-level", 0, flagInt, "")
		help := fs.add("help", 'h', flagBool, "")
		err := fs.parse(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		got := map[string]string{}
		for _, f := range fs.defs[:2] {
			if f.set {
				got[f.name] = f.value
			}
		}
		if len(got) != len(tt.flags) || strings.Join(fs.args, " ") != strings.Join(tt.rest, " ") ||
			help.bool() != tt.help || level.changed() && level.int() != tt.level || timeout.duration() != tt.timout {
			t.Errorf("%q: flags %v args %q help %v level %d timeout %v", tt.args, got, fs.args, help.bool(), level.int(), timeout.duration())
		}
		for k, v := range tt.flags {
			if got[k] != v {
				t.Errorf("%q: --%s = %q, want %q", tt.args, k, got[k], v)
			}
		}
	}
	var none *flagDef
	if none.changed() || none.bool() {
		t.Error("a nil flag reads as given")
	}
}

// A test binary started by Spawn as "<test binary> __spawntest" reports
// what it inherited and exits before any test runs.
func init() {
	out := os.Getenv("OCF_SPAWN_TEST_OUT")
	if len(os.Args) != 2 || os.Args[1] != "__spawntest" || out == "" {
		return
	}
	sid, _, _ := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0)
	in, _ := os.Readlink("/proc/self/fd/0")
	stdout, _ := os.Readlink("/proc/self/fd/1")
	os.Stderr.WriteString("to the log\n")
	report := strings.Join([]string{
		strconv.Itoa(os.Getpid()), strconv.Itoa(int(sid)), in, stdout,
		os.Getenv("SPAWN_KEEP"), os.Getenv("SPAWN_OVERRIDE"), os.Getenv("SPAWN_NEW"),
	}, "\n")
	os.WriteFile(out, []byte(report), 0o600)
	os.Exit(0)
}

func TestSpawn(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	logPath := filepath.Join(dir, "log")
	t.Setenv("OCF_SPAWN_TEST_OUT", out)
	t.Setenv("SPAWN_KEEP", "kept")
	t.Setenv("SPAWN_OVERRIDE", "old")
	pid, err := Spawn("spawntest", []string{"SPAWN_OVERRIDE=new", "SPAWN_NEW=added"}, logPath)
	if err != nil {
		t.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("child: %v, status %v", err, ws)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(string(data), "\n")
	want := []string{strconv.Itoa(pid), strconv.Itoa(pid), os.DevNull, os.DevNull, "kept", "new", "added"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("child saw pid, sid, stdin, stdout, env = %q, want %q", got, want)
	}
	if log, err := os.ReadFile(logPath); err != nil || string(log) != "to the log\n" {
		t.Errorf("log = %q, %v", log, err)
	}

	// Without a log, stderr goes to /dev/null; a bad log path is not fatal.
	for _, lp := range []string{"", filepath.Join(dir, "no", "such", "log")} {
		os.Remove(out)
		pid, err := Spawn("spawntest", nil, lp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
			t.Fatalf("child: %v, status %v", err, ws)
		}
		if _, err := os.Stat(out); err != nil {
			t.Errorf("log %q: child did not run: %v", lp, err)
		}
	}
}

func TestDedupEnv(t *testing.T) {
	got := dedupEnv([]string{"A=1", "B=2", "A=3", "C", "B=", "C=x"})
	if want := "A=3 B= C=x"; strings.Join(got, " ") != want {
		t.Errorf("dedupEnv = %q, want %q", got, want)
	}
}
