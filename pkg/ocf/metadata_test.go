package ocf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFormFor(t *testing.T) {
	for _, tt := range []struct {
		major, minor string
		want         Form
	}{
		{"", "", OCF10},      // ocf-tester, manual runs
		{"1", "", OCF10},     // minor unknown
		{"1", "0", OCF10},    // ocft
		{"1", "1", OCF11},    // Pacemaker 2.1
		{"1", "2", OCF11},    // later 1.x
		{"1", "10", OCF11},   // numeric, not lexical
		{" 1 ", " 1", OCF11}, // spaces
		{"2", "", OCF11},     // 2.x, minor irrelevant
		{"2", "0", OCF11},
		{"0", "9", OCF10},
		{"", "1", OCF10},
		{"x", "1", OCF10},
		{"1", "x", OCF10},
		{"1.1", "", OCF10},
		{"-1", "5", OCF10},
	} {
		if got := FormFor(tt.major, tt.minor); got != tt.want {
			t.Errorf("FormFor(%q, %q) = %d, want %d", tt.major, tt.minor, got, tt.want)
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{20 * time.Second, "20s"},
		{90 * time.Second, "90s"},
		{time.Hour, "3600s"},
		{1500 * time.Millisecond, "1500ms"},
		{100 * time.Millisecond, "100ms"},
		{time.Microsecond, "1ms"},
		{1500 * time.Microsecond, "2ms"},
	} {
		if got := seconds(tt.in); got != tt.want {
			t.Errorf("seconds(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// md is the parsed meta-data the tests look at.
type md struct {
	Name       string `xml:"name,attr"`
	AgentVer   string `xml:"version,attr"`
	Version    string `xml:"version"`
	Longdesc   string `xml:"longdesc"`
	Shortdesc  string `xml:"shortdesc"`
	Parameters []struct {
		Name        string `xml:"name,attr"`
		Unique      string `xml:"unique,attr"`
		Required    string `xml:"required,attr"`
		UniqueGroup string `xml:"unique-group,attr"`
		Reloadable  string `xml:"reloadable,attr"`
		Longdesc    string `xml:"longdesc"`
		Shortdesc   string `xml:"shortdesc"`
		Content     struct {
			Type    string `xml:"type,attr"`
			Default string `xml:"default,attr"`
			Options []struct {
				Value string `xml:"value,attr"`
			} `xml:"option"`
		} `xml:"content"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name     string `xml:"name,attr"`
		Timeout  string `xml:"timeout,attr"`
		Interval string `xml:"interval,attr"`
		Depth    *int   `xml:"depth,attr"`
	} `xml:"actions>action"`
}

func render(t *testing.T, spec *Spec, form Form) (string, *md) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteMetadata(&b, spec, form); err != nil {
		t.Fatal(err)
	}
	var m md
	if err := xml.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, b.String())
	}
	return b.String(), &m
}

func TestWriteMetadata(t *testing.T) {
	for _, form := range []Form{OCF10, OCF11} {
		doc, m := render(t, testSpec(), form)
		is11 := form == OCF11
		if !strings.HasPrefix(doc, "<?xml version=\"1.0\"?>\n") || !strings.HasSuffix(doc, "</resource-agent>\n") {
			t.Errorf("form %d: document framing:\n%s", form, doc)
		}
		if got := strings.Contains(doc, "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n<resource-agent"); got == is11 {
			t.Errorf("form %d: DOCTYPE line present = %v", form, got)
		}
		if want := map[bool]string{false: "1.0", true: "1.1"}[is11]; m.Version != want {
			t.Errorf("form %d: version %q, want %q", form, m.Version, want)
		}
		if m.Name != "vip" || m.AgentVer != "0.1.0" || m.Shortdesc != "Virtual IP address" ||
			m.Longdesc != `Manages a virtual IP address <with> markup & "quotes".` {
			t.Errorf("form %d: header %+v", form, m)
		}
		if len(m.Parameters) != 10 {
			t.Fatalf("form %d: %d parameters", form, len(m.Parameters))
		}
		wantTypes := map[string]string{"ip": "string", "cidr_netmask": "integer", "arp_count": "integer", "arp_bg": "boolean",
			"mode": map[bool]string{false: "string", true: "select"}[is11], "arp_interval": "string", "dampen": "string",
			"slaves": "string", "label": "string", "lvs_support": "boolean"}
		for _, p := range m.Parameters {
			if p.Content.Type != wantTypes[p.Name] {
				t.Errorf("form %d: %s type %q, want %q", form, p.Name, p.Content.Type, wantTypes[p.Name])
			}
			if p.Unique == "" || p.Required == "" {
				t.Errorf("form %d: %s lacks unique/required", form, p.Name)
			}
			if !is11 && (p.Reloadable != "" || p.UniqueGroup != "" || len(p.Content.Options) > 0) {
				t.Errorf("form 1.0: %s has 1.1 features: %+v", p.Name, p)
			}
			switch p.Name {
			case "ip":
				if p.Unique != "1" || p.Required != "1" || (is11 && p.UniqueGroup != "address") {
					t.Errorf("form %d: ip %+v", form, p)
				}
			case "arp_count":
				if p.Content.Default != "5" || (is11 && p.Reloadable != "1") {
					t.Errorf("form %d: arp_count %+v", form, p)
				}
			case "cidr_netmask":
				if p.Reloadable != "" || p.Content.Default != "" {
					t.Errorf("form %d: cidr_netmask %+v", form, p)
				}
			case "mode":
				if is11 && len(p.Content.Options) != 3 {
					t.Errorf("1.1 mode options %+v", p.Content.Options)
				}
				if got := strings.Contains(p.Longdesc, "Allowed values: balance-rr, active-backup, 802.3ad."); got == is11 {
					t.Errorf("form %d: mode longdesc %q", form, p.Longdesc)
				}
			case "arp_interval":
				if p.Content.Default != "200ms" || !strings.Contains(p.Longdesc, "bare number counts in milliseconds") {
					t.Errorf("form %d: arp_interval %+v", form, p)
				}
			case "dampen":
				if !strings.Contains(p.Longdesc, "bare number counts in seconds") {
					t.Errorf("form %d: dampen longdesc %q", form, p.Longdesc)
				}
			case "slaves":
				if !strings.Contains(p.Longdesc, "separated by spaces or commas") {
					t.Errorf("form %d: slaves longdesc %q", form, p.Longdesc)
				}
			case "lvs_support":
				if !strings.Contains(p.Longdesc, "ignored") {
					t.Errorf("form %d: lvs_support longdesc %q", form, p.Longdesc)
				}
			case "cidr":
			}
		}
		var names []string
		for _, a := range m.Actions {
			names = append(names, a.Name+"/"+a.Timeout+"/"+a.Interval)
			if a.Name == "monitor" && a.Depth == nil {
				t.Errorf("form %d: monitor without depth", form)
			}
		}
		want := "start/20s/ stop/25s/ monitor/20s/10s monitor/30s/60s status/20s/10s validate-all/1500ms/ meta-data/5s/"
		if is11 {
			want += " reload-agent/20s/"
		}
		if got := strings.Join(names, " "); got != want {
			t.Errorf("form %d: actions\n got %s\nwant %s", form, got, want)
		}
		if strings.Contains(doc, `"time"`) || strings.Contains(doc, `"reload"`) || strings.Contains(doc, "__garp") {
			t.Errorf("form %d: time type, legacy reload or a hidden action:\n%s", form, doc)
		}
	}
}

func TestWriteMetadataMinimal(t *testing.T) {
	s := &Spec{Name: "x", Params: []Param{{Name: "a"}}, Actions: []ActionSpec{{Name: "start"}}}
	doc, m := render(t, s, OCF11)
	if m.AgentVer != "" || strings.Contains(doc, `version=""`) {
		t.Errorf("empty agent version rendered:\n%s", doc)
	}
	if m.Actions[0].Timeout != "20s" {
		t.Errorf("zero timeout rendered as %q, want the default 20s", m.Actions[0].Timeout)
	}
	if m.Parameters[0].Longdesc != "" || m.Parameters[0].Content.Type != "string" {
		t.Errorf("minimal param %+v", m.Parameters[0])
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteMetadataError(t *testing.T) {
	if err := WriteMetadata(failWriter{}, testSpec(), OCF10); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteMetadata to a failing writer = %v", err)
	}
	r := runMain(newFake(), nil, "meta-data")
	if r.code != Success {
		t.Error(r.code)
	}
	var out bytes.Buffer
	code := Main(t.Context(), newFake(), []string{"vip", "meta-data"}, nil, failWriter{}, &out)
	if code != ErrGeneric || !strings.Contains(out.String(), "ocf-exit-reason:write meta-data: disk full") {
		t.Errorf("meta-data to a failing stdout = %d, %q", code, out.String())
	}
}
