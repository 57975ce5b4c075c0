package ocf

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestIsHelperAlive(t *testing.T) {
	// A stand-in for a Spawn child: argv[1] is "__h" (sh runs the script
	// file of that name), the environment names the object it serves.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "__h"), []byte("sleep 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: "/bin/sh", Args: []string{"sh", "__h"}, Dir: dir, Env: []string{"HANET_X=obj1"}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer cmd.Process.Kill()
	time.Sleep(50 * time.Millisecond) // past execve
	tests := []struct {
		pid         int
		helper, env string
		want        bool
	}{
		{pid, "h", "HANET_X=obj1", true},
		{pid, "h", "HANET_X=obj2", false}, // another instance's helper
		{pid, "g", "HANET_X=obj1", false}, // another helper
		{os.Getpid(), "h", "HANET_X=obj1", false},
		{1, "h", "HANET_X=obj1", false},
		{0, "h", "HANET_X=obj1", false},
	}
	for _, tt := range tests {
		if got := IsHelper(tt.pid, tt.helper, tt.env); got != tt.want {
			t.Errorf("IsHelper(%d, %q, %q) = %v, want %v", tt.pid, tt.helper, tt.env, got, tt.want)
		}
	}
	if !Alive(pid) || !Alive(os.Getpid()) {
		t.Error("Alive = false for running processes")
	}
	_ = cmd.Process.Kill()
	deadline := time.Now().Add(2 * time.Second)
	for Alive(pid) && time.Now().Before(deadline) { // a zombie until reaped: not alive
		time.Sleep(10 * time.Millisecond)
	}
	if Alive(pid) {
		t.Error("Alive = true for a killed, unreaped child")
	}
	_ = cmd.Wait()
	if Alive(pid) {
		t.Error("Alive = true for a reaped child")
	}
}
