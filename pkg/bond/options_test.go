package bond

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hanet/hanet/pkg/netif"
)

func TestParseEnums(t *testing.T) {
	tests := []struct {
		parse   func(string) (string, error)
		in      string
		want    string
		wantErr bool
	}{
		{parse: wrap(ParseMode), in: "active-backup", want: "active-backup"},
		{parse: wrap(ParseMode), in: "4", want: "802.3ad"},
		{parse: wrap(ParseMode), in: "Balance-ALB", want: "balance-alb"},
		{parse: wrap(ParseMode), in: "7", wantErr: true},
		{parse: wrap(ParseMode), in: "lacp", wantErr: true},
		{parse: wrap(ParseMode), in: "", wantErr: true},
		{parse: wrap(ParseARPValidate), in: "all", want: "all"}, // netlink's String says "none"
		{parse: wrap(ParseARPValidate), in: "6", want: "filter_backup"},
		{parse: wrap(ParseXmitHashPolicy), in: "layer3+4", want: "layer3+4"},
		{parse: wrap(ParseXmitHashPolicy), in: "5", want: "vlan+srcmac"},
		{parse: wrap(ParseLACPRate), in: "fast", want: "fast"},
		{parse: wrap(ParseLACPRate), in: "2", wantErr: true},
		{parse: wrap(ParseADSelect), in: "count", want: "count"},
		{parse: wrap(ParseFailOverMAC), in: "follow", want: "follow"},
		{parse: wrap(ParsePrimaryReselect), in: "better", want: "better"},
		{parse: wrap(ParseARPAllTargets), in: "1", want: "all"},
	}
	for _, tt := range tests {
		got, err := tt.parse(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want && !tt.wantErr {
			t.Errorf("parse %q = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func wrap[T interface{ String() string }](f func(string) (T, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		v, err := f(s)
		if err != nil {
			return "", err
		}
		return v.String(), nil
	}
}

func TestModeTraits(t *testing.T) {
	for m := BalanceRR; m <= BalanceALB; m++ {
		primary := m == ActiveBackup || m == BalanceTLB || m == BalanceALB
		arp := m == BalanceRR || m == ActiveBackup || m == BalanceXOR || m == Broadcast
		if m.UsesPrimary() != primary || m.UsesARPMonitor() != arp {
			t.Errorf("%s: UsesPrimary %v UsesARPMonitor %v", m, m.UsesPrimary(), m.UsesARPMonitor())
		}
	}
}

// TestOptionOrder pins the order in which options reach the kernel: the one
// of bond_changelink, which is the order they must be applied in (mode
// before anything, miimon before the delays counted in its units,
// arp_interval before its targets and validation).
func TestOptionOrder(t *testing.T) {
	names := OptionNames()
	before := [][2]string{
		{"mode", "miimon"},
		{"miimon", "updelay"},
		{"miimon", "downdelay"},
		{"arp_interval", "arp_ip_target"},
		{"arp_interval", "arp_validate"},
		{"arp_ip_target", "arp_validate"},
		{"primary", "primary_reselect"},
		{"fail_over_mac", "lacp_rate"},
	}
	for _, b := range before {
		i, j := slices.Index(names, b[0]), slices.Index(names, b[1])
		if i < 0 || j < 0 || i >= j {
			t.Errorf("%s (at %d) must come before %s (at %d) in %v", b[0], i, b[1], j, names)
		}
	}
	o := &Options{Mode: LACP, LACPRate: Ptr(LACPFast), Miimon: Ptr(100), UpDelay: Ptr(200), MinLinks: Ptr(1)}
	if got, want := o.String(), "mode=802.3ad miimon=100 updelay=200 min_links=1 lacp_rate=fast"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := o.SetNames(); !slices.Equal(got, []string{"mode", "miimon", "updelay", "min_links", "lacp_rate"}) {
		t.Errorf("SetNames() = %v", got)
	}
}

func TestDiffAndChanges(t *testing.T) {
	live := Defaults(ActiveBackup)
	live.Miimon, live.UpDelay, live.DownDelay = Ptr(100), Ptr(200), Ptr(0)
	live.Primary = Ptr("a0")

	tests := []struct {
		name      string
		want      Options
		diff      []string // option names that differ
		send      string   // Options.String() of what Change must send
		fixed     []string
		sendDelay bool
	}{
		{name: "same", want: Options{Mode: ActiveBackup, Miimon: Ptr(100), UpDelay: Ptr(200)}},
		{name: "unset is not compared", want: Options{Mode: ActiveBackup}},
		{name: "miimon resends the delays", want: Options{Mode: ActiveBackup, Miimon: Ptr(50)},
			diff: []string{"miimon"}, send: "mode=active-backup miimon=50 updelay=200 downdelay=0"},
		{name: "miimon with a new updelay", want: Options{Mode: ActiveBackup, Miimon: Ptr(50), UpDelay: Ptr(100)},
			diff: []string{"miimon", "updelay"}, send: "mode=active-backup miimon=50 updelay=100 downdelay=0"},
		{name: "primary cleared", want: Options{Mode: ActiveBackup, Primary: Ptr("")},
			diff: []string{"primary"}, send: "mode=active-backup primary="},
		{name: "targets as a set", want: Options{Mode: ActiveBackup, ARPIPTargets: []netip.Addr{}}},
		{name: "mode and lacp need a new bond", want: Options{Mode: LACP, LACPRate: Ptr(LACPFast), MinLinks: Ptr(1)},
			diff: []string{"mode", "min_links", "lacp_rate"}, send: "mode=active-backup min_links=1",
			fixed: []string{"mode", "lacp_rate"}},
		{name: "mtu live, mac not", want: Options{Mode: ActiveBackup, MTU: 9000, MAC: []byte{2, 0, 0, 0, 0, 1}},
			diff: []string{"mtu", "mac"}, send: "mode=active-backup mtu=9000", fixed: []string{"mac"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes := Diff(live, &tt.want)
			var names []string
			for _, c := range changes {
				names = append(names, c.Option)
			}
			if !slices.Equal(names, tt.diff) {
				t.Fatalf("Diff = %v, want %v", changes, tt.diff)
			}
			send, fixed := Changes(live, &tt.want, changes)
			if tt.send == "" {
				if !send.Empty() {
					t.Errorf("Changes sends %s, want nothing", send)
				}
			} else if got := send.String(); got != tt.send {
				t.Errorf("Changes sends %q, want %q", got, tt.send)
			}
			if !slices.Equal(fixed, tt.fixed) {
				t.Errorf("fixed = %v, want %v", fixed, tt.fixed)
			}
		})
	}

	// Targets compare as sets.
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	l := &Options{Mode: ActiveBackup, ARPIPTargets: []netip.Addr{b, a}}
	if d := Diff(l, &Options{Mode: ActiveBackup, ARPIPTargets: []netip.Addr{a, b}}); len(d) != 0 {
		t.Errorf("targets in another order: Diff = %v", d)
	}
	if d := Diff(l, &Options{Mode: ActiveBackup, ARPIPTargets: []netip.Addr{a}}); len(d) != 1 || d[0].String() != "arp_ip_target is 10.0.0.1,10.0.0.2, configured 10.0.0.1" {
		t.Errorf("target removed: Diff = %v", d)
	}
}

func TestFill(t *testing.T) {
	o := &Options{Mode: ActiveBackup, Miimon: Ptr(100)}
	filled := o.Fill(Defaults(ActiveBackup), []string{"mode", "miimon", "updelay", "primary", "lacp_rate"})
	if !slices.Equal(filled, []string{"updelay", "primary"}) {
		t.Errorf("Fill = %v, want updelay primary (lacp_rate has no default outside 802.3ad)", filled)
	}
	if *o.Miimon != 100 || *o.UpDelay != 0 || *o.Primary != "" {
		t.Errorf("after Fill: %s", o)
	}
}

func TestSysfsPath(t *testing.T) {
	tests := []struct {
		iface, dir, attr string
		want             string
		err              error
	}{
		{"bond0", "bonding", "mode", "/sys/class/net/bond0/bonding/mode", nil},
		{"eth1", "bonding_slave", "ad_aggregator_id", "/sys/class/net/eth1/bonding_slave/ad_aggregator_id", nil},
		{"../../etc", "bonding", "mode", "", netif.ErrInvalidName},
		{"..", "bonding", "mode", "", netif.ErrInvalidName},
		{"a/b", "bonding", "mode", "", netif.ErrInvalidName},
		{"averyveryverylongname", "bonding", "mode", "", netif.ErrInvalidName},
		{"", "bonding", "mode", "", netif.ErrInvalidName},
		{"bond0", "bonding", "../../../etc/passwd", "", ErrBadAttr},
		{"bond0", "bonding", "Mode", "", ErrBadAttr},
		{"bond0", "bonding", "", "", ErrBadAttr},
		{"bond0", "..", "mode", "", ErrBadAttr},
		{"bond0", "queues", "mode", "", ErrBadAttr},
	}
	for _, tt := range tests {
		got, err := SysfsPath(SysfsRoot, tt.iface, tt.dir, tt.attr)
		if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("SysfsPath(%q, %q, %q) = %q, %v; want %q, %v", tt.iface, tt.dir, tt.attr, got, err, tt.want, tt.err)
		}
	}
}

// TestReadADInfo reads a fake sysfs tree shaped like the kernel's.
func TestReadADInfo(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "bond0", "bonding")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{
		"ad_aggregator": "2\n", "ad_num_ports": "2\n", "ad_actor_key": "15\n",
		"ad_partner_key": "15\n", "ad_partner_mac": "02:00:00:00:00:02\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ad, err := readADInfo(root, "bond0")
	if err != nil {
		t.Fatal(err)
	}
	if ad.Aggregator != 2 || ad.NumPorts != 2 || ad.ActorKey != 15 || !ad.HasPartner() || ad.PartnerMAC.String() != "02:00:00:00:00:02" {
		t.Errorf("readADInfo = %+v", ad)
	}
	os.WriteFile(filepath.Join(dir, "ad_partner_mac"), []byte("00:00:00:00:00:00\n"), 0o644)
	if ad, _ := readADInfo(root, "bond0"); ad.HasPartner() {
		t.Errorf("zero partner MAC: HasPartner = true")
	}
	if _, err := readADInfo(root, "../x"); !errors.Is(err, netif.ErrInvalidName) {
		t.Errorf("readADInfo(../x) = %v, want ErrInvalidName", err)
	}
	if _, err := readADInfo(root, "bond1"); err == nil || !strings.Contains(err.Error(), "bond1") {
		t.Errorf("readADInfo(absent) = %v", err)
	}
}

func TestSlaveAggregated(t *testing.T) {
	s := Slave{AggregatorID: 2, ActorState: 63, PartnerState: 63}
	if !s.Aggregated(2) || s.Aggregated(1) || s.Aggregated(0) {
		t.Errorf("Aggregated wrong for %+v", s)
	}
	s.PartnerState = 0x3d // slow partner still in use (no timeout bit)
	if !s.Aggregated(2) {
		t.Errorf("slow-rate partner (61) not aggregated")
	}
	s.PartnerState = 7 // defaulted/waiting
	if s.Aggregated(2) {
		t.Errorf("partner state 7 counted as aggregated")
	}
}
