// Package testutil is Linux-only support for hanet's privileged tests: it
// builds throw-away worlds out of anonymous network namespaces and veth pairs,
// runs code and programs inside them, and captures the frames that cross them.
//
// Every helper works only inside namespaces the test created; nothing touches
// the host's own interfaces, addresses or routes. Root tests open with
// SkipUnlessRoot, create namespaces with NewNS (closed in t.Cleanup), and wait
// for oper-up (WaitOperUp) before sending frames.
//
// Namespace switching is confined to a dedicated goroutine locked to its OS
// thread (InNS, Do, Cmd.Start, StartCapture): the caller's goroutine never
// changes namespace, and a thread that cannot be switched back is never
// returned to the Go scheduler.
package testutil
