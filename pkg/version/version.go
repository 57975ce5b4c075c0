// Package version holds the build version of the hanet agents.
package version

// Version is the hanet release, set at build time with
// -ldflags '-X github.com/hanet/hanet/pkg/version.Version=<tag>'.
var Version = "0.1.0-dev"
