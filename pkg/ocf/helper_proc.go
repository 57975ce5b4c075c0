package ocf

import (
	"bytes"
	"os"
	"strconv"
)

// IsHelper reports whether process pid is a live child started by Spawn
// for the hidden action "__helper" whose environment holds the entry env
// ("KEY=value", naming the object it serves). Checking both keeps a pid
// reused by another process, or a helper of another instance, from being
// taken for ours. Equivalent to: tr '\0' ' ' </proc/$pid/cmdline; grep -z
// "^$env$" /proc/$pid/environ
func IsHelper(pid int, helper, env string) bool {
	if pid <= 1 {
		return false
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	cmd, err := os.ReadFile(dir + "cmdline")
	if err != nil {
		return false
	}
	args := bytes.Split(cmd, []byte{0})
	if len(args) < 2 || string(args[1]) != "__"+helper {
		return false
	}
	environ, err := os.ReadFile(dir + "environ")
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(environ, []byte{0}) {
		if string(kv) == env {
			return true
		}
	}
	return false
}

// Alive reports whether process pid exists and is neither a zombie nor
// dead (a killed child that its parent has not reaped yet is not alive).
func Alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
}
