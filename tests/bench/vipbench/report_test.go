package main

import "testing"

func TestParseStrace(t *testing.T) {
	out := `100 execve("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", ["IPaddr2", "start"], 0x7ffd /* 12 vars */) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
101 execve("/usr/bin/ip", ["ip", "-o"], 0x55 /* 12 vars */) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f <unfinished ...>
102 execve("/usr/bin/nope", ["nope"], 0x55 /* 12 vars */) = -1 ENOENT (No such file or directory)
100 <... clone resumed>) = 102
200 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7ff, tls=0x7f} => {parent_tid=[201]}, 88) = 201
200 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0} <unfinished ...>
200 <... clone3 resumed> => {parent_tid=[202]}, 88) = 202
300 vfork() = 301
400 clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|SIGCHLD <unfinished ...>
401 execve("/tmp/vip", ["/tmp/vip", "__garp"], 0x338ddc47e000 /* 44 vars */ <unfinished ...>
400 <... clone resumed>, parent_tid=[14]) = 401
401 <... execve resumed>)             = 0
`
	got := parseStrace(out)
	want := procCount{forks: 4, execs: 2}
	if got != want {
		t.Errorf("parseStrace = %+v, want %+v", got, want)
	}
}

func TestParseStraceShortPids(t *testing.T) {
	// strace -f pads pids to five columns: short pids have two spaces.
	out := `6773  execve("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", ["IPaddr2", "monitor"], 0x7ff /* 8 vars */) = 0
6773  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f1) = 6774
6774  execve("/usr/bin/basename", ["basename", "x"], 0x55c /* 9 vars */) = 0
6773  clone(child_stack=0x1, flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, tls=0x2 <unfinished ...>
12345 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>
6773  <... clone resumed>) = 6775
12345 <... clone resumed>) = 12346
12346 execve("/bin/ip", ["ip"], 0x1 /* 1 var */) = -1 ENOENT (No such file or directory)
`
	if got, want := parseStrace(out), (procCount{forks: 2, execs: 1}); got != want {
		t.Errorf("parseStrace = %+v, want %+v", got, want)
	}
}
