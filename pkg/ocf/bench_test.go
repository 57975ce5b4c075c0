package ocf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// benchParams is a 20-parameter table mixing every type.
func benchParams() ([]Param, map[string]string) {
	var params []Param
	env := map[string]string{}
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("param_%02d", i)
		p := Param{Name: name, Short: "parameter " + name}
		switch i % 6 {
		case 0:
			p.Type, p.Required = String, true
			env["OCF_RESKEY_"+name] = "192.0.2.10"
		case 1:
			p.Type, p.Min, p.Max, p.Default = Integer, Int64(0), Int64(1000), "5"
			env["OCF_RESKEY_"+name] = "42"
		case 2:
			p.Type, p.Default = Boolean, "false"
			env["OCF_RESKEY_"+name] = "yes"
		case 3:
			p.Type, p.Choices, p.Aliases = Select, []string{"balance-rr", "active-backup", "802.3ad"}, map[string]string{"4": "802.3ad"}
			env["OCF_RESKEY_"+name] = "4"
		case 4:
			p.Type, p.Unit, p.Default = Duration, time.Millisecond, "200ms"
			env["OCF_RESKEY_"+name] = "1.5s"
		case 5:
			p.Type = List // left unset: default path
		}
		params = append(params, p)
	}
	return params, env
}

func BenchmarkParse(b *testing.B) {
	params, env := benchParams()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	b.ReportAllocs()
	for b.Loop() {
		_, _, errs := parseValues(params, lookup, nil)
		if len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkMetadata(b *testing.B) {
	spec := testSpec()
	for _, form := range []struct {
		name string
		form Form
	}{{"OCF10", OCF10}, {"OCF11", OCF11}} {
		b.Run(form.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := WriteMetadata(&buf, spec, form.form); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
		})
	}
}

// BenchmarkMainMonitor is a whole recurring monitor through Main: flags,
// environment, parameters, dispatch.
func BenchmarkMainMonitor(b *testing.B) {
	a := newFake()
	environ := []string{"OCF_RESKEY_ip=192.0.2.10", "OCF_RESKEY_cidr_netmask=24", "OCF_RESKEY_CRM_meta_interval=10000",
		"OCF_RESKEY_CRM_meta_timeout=20000", "OCF_RESOURCE_INSTANCE=vip", "HA_LOGFACILITY=none"}
	args := []string{"vip", "monitor"}
	b.ReportAllocs()
	for b.Loop() {
		if code := Main(context.Background(), a, args, environ, io.Discard, io.Discard); code != Success {
			b.Fatal(code)
		}
		a.calls, a.actions, a.ctxs = a.calls[:0], a.actions[:0], a.ctxs[:0]
	}
}
