package vip

import (
	"context"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/pkg/ocf/ocftest"
)

// capture is the vip agent with a validate-all that keeps the parsed
// Config and the Values it came from, so tests see what parseConfig made
// of an environment without touching the host (level 0 never does).
type capture struct {
	Agent
	cfg    *Config
	values *ocf.Values
}

func (a *capture) Validate(ctx context.Context, c *ocf.Call) error {
	a.values = c.Params
	cfg, err := config(c)
	a.cfg = cfg
	return err
}

// params turns "k=v" pairs into an environment of OCF_RESKEY_k=v entries.
func params(kv ...string) map[string]string {
	env := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		env["OCF_RESKEY_"+k] = v
	}
	return env
}

func dur(d time.Duration) *time.Duration { return &d }

// defaults is the Config of ip=192.0.2.10 and nothing else.
func defaults() Config {
	return Config{
		IP:              netip.MustParseAddr("192.0.2.10"),
		Prefix:          -1,
		ARPCount:        5,
		ARPInterval:     200 * time.Millisecond,
		ARPBackground:   true,
		CheckLinkStatus: true,
		CarrierTimeout:  5 * time.Second,
	}
}

func TestParseConfig(t *testing.T) {
	v6 := netip.MustParseAddr("2001:db8::a")
	tests := []struct {
		name   string
		params []string
		change func(*Config) // applied to defaults()
		warn   string        // a WARNING line must contain this
	}{
		{name: "ip only", params: []string{"ip=192.0.2.10"}},
		{name: "ip with spaces", params: []string{"ip= 192.0.2.10 "}},
		{name: "ipv6 upper case", params: []string{"ip=2001:DB8::A"}, change: func(c *Config) { c.IP = v6 }},
		{name: "ipv6 long form", params: []string{"ip=2001:0db8:0000:0000:0000:0000:0000:000a"}, change: func(c *Config) { c.IP = v6 }},
		{name: "ipv6 partly compressed", params: []string{"ip=2001:db8:0:0::a"}, change: func(c *Config) { c.IP = v6 }},
		{name: "ipv4-mapped ipv6 is ipv4", params: []string{"ip=::ffff:192.0.2.10"}},
		{name: "link-local with nic", params: []string{"ip=fe80::10", "nic=eth0"},
			change: func(c *Config) { c.IP = netip.MustParseAddr("fe80::10"); c.NIC = "eth0" }},
		{name: "ipv4 link-local needs no nic", params: []string{"ip=169.254.1.1"},
			change: func(c *Config) { c.IP = netip.MustParseAddr("169.254.1.1") }},
		{name: "nic", params: []string{"ip=192.0.2.10", "nic=eth0"}, change: func(c *Config) { c.NIC = "eth0" }},
		{name: "nic 15 bytes", params: []string{"ip=192.0.2.10", "nic=abcdefghijklmno"}, change: func(c *Config) { c.NIC = "abcdefghijklmno" }},
		{name: "nic:label", params: []string{"ip=192.0.2.10", "nic=eth0:vip"},
			change: func(c *Config) { c.NIC, c.Label = "eth0", "vip" }, warn: "deprecated"},
		{name: "iflabel wins over nic:label", params: []string{"ip=192.0.2.10", "nic=eth0:old", "iflabel=new"},
			change: func(c *Config) { c.NIC, c.Label = "eth0", "new" }, warn: "deprecated"},
		{name: "iflabel", params: []string{"ip=192.0.2.10", "iflabel=vip1"}, change: func(c *Config) { c.Label = "vip1" }},
		{name: "iflabel ignored for ipv6", params: []string{"ip=2001:db8::a", "iflabel=vip"},
			change: func(c *Config) { c.IP = v6 }, warn: "IPv6 addresses have no labels"},
		{name: "cidr_netmask", params: []string{"ip=192.0.2.10", "cidr_netmask=24"}, change: func(c *Config) { c.Prefix = 24 }},
		{name: "cidr_netmask with slash", params: []string{"ip=192.0.2.10", "cidr_netmask=/25"}, change: func(c *Config) { c.Prefix = 25 }},
		{name: "cidr_netmask 32", params: []string{"ip=192.0.2.10", "cidr_netmask=32"}, change: func(c *Config) { c.Prefix = 32 }},
		{name: "dotted netmask", params: []string{"ip=192.0.2.10", "cidr_netmask=255.255.255.0"},
			change: func(c *Config) { c.Prefix = 24 }, warn: "converted to prefix length 24"},
		{name: "dotted netmask /32", params: []string{"ip=192.0.2.10", "cidr_netmask=255.255.255.255"},
			change: func(c *Config) { c.Prefix = 32 }, warn: "converted to prefix length 32"},
		{name: "dotted netmask /1", params: []string{"ip=192.0.2.10", "cidr_netmask=128.0.0.0"},
			change: func(c *Config) { c.Prefix = 1 }, warn: "converted to prefix length 1"},
		{name: "netmask alias", params: []string{"ip=192.0.2.10", "netmask=255.255.0.0"},
			change: func(c *Config) { c.Prefix = 16 }, warn: "netmask 255.255.0.0 converted"},
		{name: "cidr_netmask wins over netmask", params: []string{"ip=192.0.2.10", "netmask=16", "cidr_netmask=28"}, change: func(c *Config) { c.Prefix = 28 }},
		{name: "ipv6 prefix", params: []string{"ip=2001:db8::a", "cidr_netmask=64"}, change: func(c *Config) { c.IP, c.Prefix = v6, 64 }},
		{name: "ipv6 prefix 128", params: []string{"ip=2001:db8::a", "cidr_netmask=128"}, change: func(c *Config) { c.IP, c.Prefix = v6, 128 }},
		{name: "broadcast", params: []string{"ip=192.0.2.10", "broadcast=192.0.2.127"},
			change: func(c *Config) { c.Broadcast = netip.MustParseAddr("192.0.2.127") }},
		{name: "broadcast +", params: []string{"ip=192.0.2.10", "broadcast=+"}},
		{name: "broadcast -", params: []string{"ip=192.0.2.10", "broadcast=-"}},
		{name: "broadcast ignored for ipv6", params: []string{"ip=2001:db8::a", "broadcast=192.0.2.255"},
			change: func(c *Config) { c.IP = v6 }, warn: "ignored for IPv6"},
		{name: "arp_count", params: []string{"ip=192.0.2.10", "arp_count=10"}, change: func(c *Config) { c.ARPCount = 10 }},
		{name: "arp_count 0", params: []string{"ip=192.0.2.10", "arp_count=0"}, change: func(c *Config) { c.ARPCount = 0 }},
		{name: "arp_interval bare ms", params: []string{"ip=192.0.2.10", "arp_interval=500"},
			change: func(c *Config) { c.ARPInterval = 500 * time.Millisecond }},
		{name: "arp_interval duration", params: []string{"ip=192.0.2.10", "arp_interval=1.5s"},
			change: func(c *Config) { c.ARPInterval = 1500 * time.Millisecond }},
		{name: "arp_interval 0", params: []string{"ip=192.0.2.10", "arp_interval=0"}, change: func(c *Config) { c.ARPInterval = 0 }},
		{name: "arp_interval 10s", params: []string{"ip=192.0.2.10", "arp_interval=10000"},
			change: func(c *Config) { c.ARPInterval = 10 * time.Second }},
		{name: "arp_count_refresh", params: []string{"ip=192.0.2.10", "arp_count_refresh=2"}, change: func(c *Config) { c.ARPCountRefresh = 2 }},
		{name: "arp_bg false", params: []string{"ip=192.0.2.10", "arp_bg=false"}, change: func(c *Config) { c.ARPBackground = false }},
		{name: "arp_bg no", params: []string{"ip=192.0.2.10", "arp_bg=no"}, change: func(c *Config) { c.ARPBackground = false }},
		{name: "run_arping", params: []string{"ip=192.0.2.10", "run_arping=yes"}, change: func(c *Config) { c.RunARPing = true }},
		{name: "preferred_lft 0", params: []string{"ip=192.0.2.10", "preferred_lft=0"}, change: func(c *Config) { c.PreferredLft = dur(0) }},
		{name: "preferred_lft seconds", params: []string{"ip=192.0.2.10", "preferred_lft=3600"},
			change: func(c *Config) { c.PreferredLft = dur(time.Hour) }},
		{name: "preferred_lft sec suffix", params: []string{"ip=192.0.2.10", "preferred_lft=30sec"},
			change: func(c *Config) { c.PreferredLft = dur(30 * time.Second) }},
		{name: "preferred_lft forever", params: []string{"ip=192.0.2.10", "preferred_lft=forever"}},
		{name: "preferred_lft FOREVER", params: []string{"ip=192.0.2.10", "preferred_lft=FOREVER"}},
		{name: "nodad", params: []string{"ip=2001:db8::a", "nodad=true"}, change: func(c *Config) { c.IP, c.NoDAD = v6, true }},
		{name: "noprefixroute", params: []string{"ip=192.0.2.10", "noprefixroute=1"}, change: func(c *Config) { c.NoPrefixRoute = true }},
		{name: "flush_routes", params: []string{"ip=192.0.2.10", "flush_routes=on"}, change: func(c *Config) { c.FlushRoutes = true }},
		{name: "check_link_status off", params: []string{"ip=192.0.2.10", "check_link_status=false"}, change: func(c *Config) { c.CheckLinkStatus = false }},
		{name: "empty values are unset", params: []string{"ip=192.0.2.10", "nic=", "cidr_netmask=", "arp_count=", "arp_bg="}},
		{name: "lvs_support accepted and ignored", params: []string{"ip=192.0.2.10", "lvs_support=true"}, warn: "lvs_support is not used"},
		{name: "network_namespace ignored", params: []string{"ip=192.0.2.10", "network_namespace=blue"}, warn: "network_namespace is not used"},
		{name: "arp_sender ignored", params: []string{"ip=192.0.2.10", "arp_sender=libnet_arping"}, warn: "arp_sender is not used"},
		{name: "send_arp_opts ignored", params: []string{"ip=192.0.2.10", "send_arp_opts=-A"}, warn: "send_arp_opts is not used"},
		{name: "clusterip_hash ignored", params: []string{"ip=192.0.2.10", "clusterip_hash=sourceip"}, warn: "clusterip_hash is not used"},
		{name: "mac ignored", params: []string{"ip=192.0.2.10", "mac=01:00:5e:00:00:01"}, warn: "mac is not used"},
		{name: "unique_clone_address ignored", params: []string{"ip=192.0.2.10", "unique_clone_address=true"}, warn: "unique_clone_address is not used"},
		{name: "lvs_ipv6_addrlabel ignored", params: []string{"ip=192.0.2.10", "lvs_ipv6_addrlabel=true", "lvs_ipv6_addrlabel_value=99"}, warn: "lvs_ipv6_addrlabel is not used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &capture{}
			code, _, stderr := ocftest.Run(t, a, params(tt.params...), "validate-all")
			if code != ocf.Success {
				t.Fatalf("validate-all = %d, want 0; stderr:\n%s", code, stderr)
			}
			want := defaults()
			if tt.change != nil {
				tt.change(&want)
			}
			if !reflect.DeepEqual(*a.cfg, want) {
				t.Errorf("config:\n got %+v\nwant %+v", *a.cfg, want)
			}
			if tt.warn != "" && !hasLine(stderr, "WARNING:", tt.warn) {
				t.Errorf("stderr has no warning containing %q:\n%s", tt.warn, stderr)
			}
			if tt.warn == "" && strings.Contains(stderr, "WARNING") {
				t.Errorf("unexpected warning:\n%s", stderr)
			}
		})
	}
}

func hasLine(s, prefix, sub string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// TestParseConfigInvalid: every value wrong on every node ends validate-all,
// start and a probe in 6 with an exit reason naming the problem, and a stop
// in 0 (nothing of ours can exist), all before any look at the host.
func TestParseConfigInvalid(t *testing.T) {
	tests := []struct {
		name   string
		params []string
		reason string
	}{
		{"ip unset", []string{"nic=eth0"}, "required parameter ip is not set"},
		{"ip empty", []string{"ip="}, "required parameter ip is not set"},
		{"ip blank", []string{"ip=  "}, "required parameter ip is not set"},
		{"ip not an address", []string{"ip=banana"}, `ip "banana" is not an IPv4 or IPv6 address`},
		{"ip out of range", []string{"ip=192.0.2.256"}, "is not an IPv4 or IPv6 address"},
		{"ip short", []string{"ip=192.0.2"}, "is not an IPv4 or IPv6 address"},
		{"ip with prefix", []string{"ip=192.0.2.10/24"}, "prefix length in cidr_netmask"},
		{"ip with zone", []string{"ip=fe80::1%eth0"}, "give the interface in nic"},
		{"ip unspecified v4", []string{"ip=0.0.0.0"}, "cannot be a host address"},
		{"ip unspecified v6", []string{"ip=::"}, "cannot be a host address"},
		{"ip multicast v4", []string{"ip=224.0.0.1"}, "cannot be a host address"},
		{"ip multicast v6", []string{"ip=ff02::1"}, "cannot be a host address"},
		{"ip limited broadcast", []string{"ip=255.255.255.255"}, "cannot be a host address"},
		{"link-local without nic", []string{"ip=fe80::10"}, "link-local: nic is required"},
		{"nic too long", []string{"ip=192.0.2.10", "nic=abcdefghijklmnop"}, "want at most 15"},
		{"nic with slash", []string{"ip=192.0.2.10", "nic=eth/0"}, "not allowed"},
		{"nic with space", []string{"ip=192.0.2.10", "nic=eth 0"}, "not allowed"},
		{"nic dot", []string{"ip=192.0.2.10", "nic=.."}, "invalid interface name"},
		{"nic empty base", []string{"ip=192.0.2.10", "nic=:vip"}, "want an interface name"},
		{"nic empty label", []string{"ip=192.0.2.10", "nic=eth0:"}, "want an interface name"},
		{"nic:label label too long", []string{"ip=192.0.2.10", "nic=eth0:abcdefghijklmno"}, "iflabel"},
		{"iflabel too long", []string{"ip=192.0.2.10", "iflabel=abcdefghijklmno"}, "at most 14 bytes"},
		{"iflabel with slash", []string{"ip=192.0.2.10", "iflabel=a/b"}, "iflabel"},
		{"iflabel with colon", []string{"ip=192.0.2.10", "iflabel=a:b"}, "iflabel"},
		{"iflabel with space", []string{"ip=192.0.2.10", "iflabel=a b"}, "iflabel"},
		{"nic plus label over 15", []string{"ip=192.0.2.10", "nic=abcdefghij", "iflabel=klmnop"}, "longer than 15 bytes"},
		{"cidr_netmask 33", []string{"ip=192.0.2.10", "cidr_netmask=33"}, "want 1..32"},
		{"cidr_netmask 0", []string{"ip=192.0.2.10", "cidr_netmask=0"}, "want 1..32"},
		{"cidr_netmask negative", []string{"ip=192.0.2.10", "cidr_netmask=-1"}, "want 1..32"},
		{"cidr_netmask word", []string{"ip=192.0.2.10", "cidr_netmask=wide"}, "not a prefix length"},
		{"cidr_netmask fraction", []string{"ip=192.0.2.10", "cidr_netmask=24.5"}, "not a netmask"},
		{"netmask not contiguous", []string{"ip=192.0.2.10", "cidr_netmask=255.0.255.0"}, "not contiguous"},
		{"netmask bad quad", []string{"ip=192.0.2.10", "cidr_netmask=255.255.255.300"}, "not a netmask"},
		{"netmask alias bad", []string{"ip=192.0.2.10", "netmask=40"}, "want 1..32"},
		{"ipv6 prefix 129", []string{"ip=2001:db8::a", "cidr_netmask=129"}, "want 1..128"},
		{"ipv6 dotted netmask", []string{"ip=2001:db8::a", "cidr_netmask=255.255.255.0"}, "needs an IPv4 address"},
		{"broadcast word", []string{"ip=192.0.2.10", "broadcast=everyone"}, "is not an IPv4 address"},
		{"broadcast ipv6 for ipv4", []string{"ip=192.0.2.10", "broadcast=2001:db8::ff"}, "is not an IPv4 address"},
		{"arp_count negative", []string{"ip=192.0.2.10", "arp_count=-1"}, "arp_count=-1: below the minimum 0"},
		{"arp_count word", []string{"ip=192.0.2.10", "arp_count=five"}, `arp_count="five": not an integer`},
		{"arp_count huge", []string{"ip=192.0.2.10", "arp_count=1001"}, "above the maximum 1000"},
		{"arp_interval negative", []string{"ip=192.0.2.10", "arp_interval=-5"}, "arp_interval"},
		{"arp_interval word", []string{"ip=192.0.2.10", "arp_interval=soon"}, "arp_interval"},
		{"arp_interval too long", []string{"ip=192.0.2.10", "arp_interval=11s"}, "want at most 10s"},
		{"arp_count_refresh word", []string{"ip=192.0.2.10", "arp_count_refresh=x"}, "arp_count_refresh"},
		{"arp_count_refresh negative", []string{"ip=192.0.2.10", "arp_count_refresh=-2"}, "arp_count_refresh"},
		{"arp_bg maybe", []string{"ip=192.0.2.10", "arp_bg=maybe"}, "arp_bg"},
		{"run_arping 2", []string{"ip=192.0.2.10", "run_arping=2"}, "run_arping"},
		{"nodad word", []string{"ip=2001:db8::a", "nodad=sure"}, "nodad"},
		{"noprefixroute word", []string{"ip=192.0.2.10", "noprefixroute=x"}, "noprefixroute"},
		{"flush_routes word", []string{"ip=192.0.2.10", "flush_routes=x"}, "flush_routes"},
		{"check_link_status word", []string{"ip=192.0.2.10", "check_link_status=perhaps"}, "check_link_status"},
		{"preferred_lft negative", []string{"ip=192.0.2.10", "preferred_lft=-1"}, "preferred_lft"},
		{"preferred_lft word", []string{"ip=192.0.2.10", "preferred_lft=long"}, "want seconds or 'forever'"},
		{"preferred_lft infinity number", []string{"ip=192.0.2.10", "preferred_lft=4294967295"}, "preferred_lft"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, action := range []string{"validate-all", "start", "monitor", "reload-agent"} {
				code, _, stderr := ocftest.Run(t, Agent{}, params(tt.params...), action)
				if code != ocf.ErrConfigured {
					t.Errorf("%s = %d, want 6; stderr:\n%s", action, code, stderr)
					continue
				}
				reason, last := ocftest.ExitReason(stderr)
				if !strings.Contains(reason, tt.reason) || !last {
					t.Errorf("%s: exit reason %q (last line: %v), want one containing %q", action, reason, last, tt.reason)
				}
				if len(reason) > 128 {
					t.Errorf("%s: exit reason is %d bytes; Pacemaker keeps 128", action, len(reason))
				}
			}
			code, _, stderr := ocftest.Run(t, Agent{}, params(tt.params...), "stop")
			if code != ocf.Success {
				t.Errorf("stop = %d, want 0 (nothing of ours can be configured); stderr:\n%s", code, stderr)
			}
		})
	}
}

// TestRecurringMonitorNever6: a recurring monitor with broken parameters
// fails (1) rather than banning the resource everywhere (6).
func TestRecurringMonitorNever6(t *testing.T) {
	env := params("ip=banana")
	env["OCF_RESKEY_CRM_meta_interval"] = "10000"
	code, _, stderr := ocftest.Run(t, Agent{}, env, "monitor")
	if code != ocf.ErrGeneric {
		t.Errorf("recurring monitor with ip=banana = %d, want 1; stderr:\n%s", code, stderr)
	}
}

func TestActionsWithoutHost(t *testing.T) {
	tests := []struct {
		args   []string
		env    map[string]string
		want   ocf.ExitCode
		reason string
	}{
		{[]string{"notify"}, params("ip=192.0.2.10"), ocf.ErrUnimplemented, "not supported"},
		{[]string{"promote"}, params("ip=192.0.2.10"), ocf.ErrUnimplemented, "not supported"},
		{[]string{"reload"}, params("ip=192.0.2.10"), ocf.ErrUnimplemented, "not supported"},
		{[]string{"__nothing"}, params("ip=192.0.2.10"), ocf.ErrUnimplemented, "no helper"},
		{[]string{"__garp"}, params("ip=192.0.2.10", "arp_count=x"), ocf.ErrConfigured, "arp_count"},
		{[]string{"__garp"}, params("ip=192.0.2.10"), ocf.ErrConfigured, "HANET_VIP_ROUNDS"},
		{[]string{"usage"}, nil, ocf.Success, ""},
		{[]string{"meta-data"}, nil, ocf.Success, ""},
		{[]string{"validate-all", "--ip", "2001:db8::1", "--cidr_netmask", "64"}, nil, ocf.Success, ""},
		{[]string{"reload-agent"}, params("ip=192.0.2.10", "arp_count=3"), ocf.Success, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := ocftest.Run(t, Agent{}, tt.env, tt.args...)
			if code != tt.want {
				t.Fatalf("= %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
			if reason, _ := ocftest.ExitReason(stderr); !strings.Contains(reason, tt.reason) {
				t.Errorf("exit reason %q, want one containing %q", reason, tt.reason)
			}
		})
	}
}

// TestParamTable keeps the table and the IPaddr2 parameters in step: every
// IPaddr2 4.12 parameter is accepted (used or ignored with a warning).
func TestParamTable(t *testing.T) {
	ipaddr2 := []string{"ip", "nic", "cidr_netmask", "broadcast", "iflabel", "lvs_support",
		"lvs_ipv6_addrlabel", "lvs_ipv6_addrlabel_value", "mac", "clusterip_hash",
		"unique_clone_address", "arp_interval", "arp_count", "arp_count_refresh", "arp_bg",
		"arp_sender", "send_arp_opts", "flush_routes", "run_arping", "nodad", "noprefixroute",
		"preferred_lft", "network_namespace"}
	have := map[string]bool{}
	for _, p := range Params {
		have[p.Name] = true
	}
	var missing []string
	for _, n := range ipaddr2 {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("IPaddr2 parameters missing from the table: %v", missing)
	}
	for _, p := range Params {
		if p.Reloadable && p.Ignored {
			t.Errorf("parameter %s is both reloadable and ignored", p.Name)
		}
	}
}

func TestBurst(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	ms := time.Millisecond
	tests := []struct {
		ip    netip.Addr
		count int
		want  time.Duration
	}{
		{v4, 0, 0}, {v4, 1, 100 * ms}, {v4, 5, 900 * ms},
		{v6, 0, 0}, {v6, 1, 0}, {v6, 5, 800 * ms},
	}
	for _, tt := range tests {
		if got := burst(tt.ip, tt.count, 200*ms); got != tt.want {
			t.Errorf("burst(%s, %d, 200ms) = %v, want %v", tt.ip, tt.count, got, tt.want)
		}
	}
}

// BenchmarkParseConfig measures parseConfig on a full IPaddr2-style
// parameter set.
func BenchmarkParseConfig(b *testing.B) {
	a := &capture{}
	env := params("ip=192.0.2.10", "nic=eth0:vip", "cidr_netmask=255.255.255.0", "broadcast=192.0.2.255",
		"arp_count=5", "arp_interval=200", "arp_count_refresh=1", "arp_bg=true", "preferred_lft=forever",
		"run_arping=false", "flush_routes=true")
	if code, _, stderr := ocftest.Run(b, a, env, "validate-all"); code != ocf.Success {
		b.Fatalf("validate-all = %d: %s", code, stderr)
	}
	nop := func(string, ...any) {}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseConfig(a.values, nop); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateAll measures a whole validate-all through ocf.Main:
// environment, parameter table, parseConfig.
func BenchmarkValidateAll(b *testing.B) {
	env := []string{"OCF_RESKEY_ip=2001:db8::10", "OCF_RESKEY_cidr_netmask=64", "OCF_RESKEY_nic=eth0",
		"OCF_RESKEY_arp_count=5", "HA_RSCTMP=" + b.TempDir()}
	b.ReportAllocs()
	for b.Loop() {
		var out, errb strings.Builder
		if code := ocf.Main(context.Background(), Agent{}, []string{"vip", "validate-all"}, env, &out, &errb); code != ocf.Success {
			b.Fatalf("validate-all = %d: %s", code, errb.String())
		}
	}
}
