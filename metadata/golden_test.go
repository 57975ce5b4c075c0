// Package metadata holds each agent's meta-data as `make metadata` writes it
// from the built binaries: <agent>.xml (OCF 1.0, what ocf-tester reads) and
// <agent>-1.1.xml (what Pacemaker reads). The test fails when they drift
// from the agents.
package metadata

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/ocf/ocftest"
	"github.com/hanet/hanet/tests/tools/readme/specs"
)

// version matches the build version on the resource-agent element, which
// `make metadata` takes from git describe and a test build lacks.
var version = regexp.MustCompile(`(<resource-agent name="[^"]*") version="[^"]*"`)

func normalize(doc []byte) []byte {
	return version.ReplaceAll(doc, []byte(`$1 version="VERSION"`))
}

// TestGolden compares every metadata/*.xml with its agent's output and
// validates both forms (DTD as ocf-tester does, OCF 1.1 RELAX NG).
func TestGolden(t *testing.T) {
	for _, a := range specs.Agents() {
		name := a.Spec().Name
		t.Run(name, func(t *testing.T) {
			ocftest.CheckMetadata(t, a)
			for file, form := range map[string]ocf.Form{name + ".xml": ocf.OCF10, name + "-1.1.xml": ocf.OCF11} {
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v: run make metadata", err)
				}
				if got := ocftest.Metadata(t, a, form); !bytes.Equal(normalize(got), normalize(want)) {
					t.Errorf("metadata/%s differs from the agent's meta-data: run make metadata", file)
				}
			}
		})
	}
}
