//go:build linux

package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseTrace(t *testing.T) {
	const out = `100 execve("/bin/agent", ["agent", "start"], 0x7ffd /* 8 vars */) = 0
100 rt_sigaction(SIGHUP, {sa_handler=0x1}, NULL, 8) = 0
100 rt_sigaction(SIGINT, {sa_handler=0x1}, NULL, 8) = 0
100 clone(child_stack=0x1, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS, tls=0x2) = 101
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
101 openat(AT_FDCWD, "/proc/4242/cmdline", O_RDONLY|O_CLOEXEC) = 3
101 epoll_ctl(4, EPOLL_CTL_ADD, 3, {events=EPOLLIN}) = -1 EPERM (Operation not permitted)
100 <... clone resumed>, child_tidptr=0x3) = 102
102 execve("/bin/ip", ["ip", "addr"], 0x7ffd /* 8 vars */) = 0
101 openat(AT_FDCWD, "/run/x/hanet-vip-a.lock", O_RDWR|O_CREAT|O_CLOEXEC, 0600) = 5
101 fsync(5)                          = 0
101 openat(AT_FDCWD, "/proc/self/cgroup", O_RDONLY|O_CLOEXEC) = 3
101 sendto(5, [{nlmsg_len=52, nlmsg_type=RTM_GETLINK}], 52, 0, NULL, 0) = 52
101 getsockname(5, {sa_family=AF_NETLINK, nl_pid=100}, [12]) = 0
102 +++ exited with 0 +++
`
	p := filepath.Join(t.TempDir(), "trace")
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := parseTrace(f)
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"total", tr.total, 13},
		{"failed", tr.failed, 1},
		{"threads", tr.threads, 1},
		{"forks", tr.forks, 1},
		{"execs (the action's own not counted)", tr.execs, 1},
		{"rt_sigaction", tr.calls["rt_sigaction"], 2},
		{"clone", tr.calls["clone"], 2},
		{"/proc/<pid>/cmdline opens", tr.procCmdline, 1},
		{"state opens", tr.stateOpens, 1},
		{"cgroup opens", tr.selfCgroup, 1},
		{"fsyncs", tr.fsyncs, 1},
		{"getsockname", tr.getsockname, 1},
		{"netlink sends", tr.netlinkSends, 1},
		{"EPERM epoll_ctl", tr.errs["epoll_ctl"]["EPERM"], 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
	if got, want := tr.top(2), "openat 3, clone 2"; got != want {
		t.Errorf("top(2) = %q, want %q", got, want)
	}
}
