package ocf_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/ocf/ocftest"
)

// TestMetadataSchemas renders the sample spec (every parameter type,
// reloadable, unique-group, select, reload-agent) in both forms through
// ocf.Main and validates them with xmllint: the 1.0 form as ocf-tester does
// (DTD, DOCTYPE needed) and against both RELAX NG schemas, the 1.1 form
// against the OCF 1.1 schema. A missing xmllint fails the test.
func TestMetadataSchemas(t *testing.T) {
	t.Parallel()
	ocftest.CheckMetadata(t, ocf.NewSampleAgent())
}

// TestWriteMetadataSchemas validates WriteMetadata's output directly, for
// both forms, including the spec's reload-agent entry that Main would drop
// for an agent without Reload.
func TestWriteMetadataSchemas(t *testing.T) {
	t.Parallel()
	for _, form := range []ocf.Form{ocf.OCF10, ocf.OCF11} {
		var b bytes.Buffer
		if err := ocf.WriteMetadata(&b, ocf.SampleSpec(), form); err != nil {
			t.Fatal(err)
		}
		if err := ocftest.ValidateMetadata(b.Bytes(), form); err != nil {
			t.Errorf("form %d: %v\n%s", form, err, b.String())
		}
	}
}

func TestMetadataNoRootNoParams(t *testing.T) {
	var out, errb bytes.Buffer
	// No environment at all: no parameters, no OCF_ROOT, no HA_RSCTMP.
	code := ocf.Main(context.Background(), ocf.NewSampleAgent(), []string{"vip", "meta-data"}, nil, &out, &errb)
	if code != ocf.Success || errb.Len() != 0 || out.Len() == 0 {
		t.Errorf("meta-data = %d, stdout %d bytes, stderr %q", code, out.Len(), errb.String())
	}
}
