package vip

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/ocf/ocftest"
)

// TestMetadata validates both meta-data forms against ra-api-1.dtd (as
// ocf-tester does) and the OCF 1.1 RELAX NG schema.
func TestMetadata(t *testing.T) {
	ocftest.CheckMetadata(t, Agent{})
}

// agentVersion matches the build version on the resource-agent element,
// which `make metadata` takes from git describe and a test build lacks.
var agentVersion = regexp.MustCompile(`(<resource-agent name="vip") version="[^"]*"`)

func normalize(doc []byte) []byte {
	return agentVersion.ReplaceAll(doc, []byte(`$1 version="VERSION"`))
}

// TestGoldenMetadata compares metadata/vip.xml and metadata/vip-1.1.xml,
// which `make metadata` writes from the binary, with the agent's output.
func TestGoldenMetadata(t *testing.T) {
	for _, tt := range []struct {
		file string
		form ocf.Form
	}{
		{"vip.xml", ocf.OCF10},
		{"vip-1.1.xml", ocf.OCF11},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("..", "..", "metadata", tt.file)
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v: run make metadata", err)
			}
			got := ocftest.Metadata(t, Agent{}, tt.form)
			if !bytes.Equal(normalize(got), normalize(want)) {
				t.Errorf("%s differs from the agent's meta-data: run make metadata\n--- agent ---\n%s", path, got)
			}
		})
	}
}
