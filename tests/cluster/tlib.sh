# shellcheck shell=bash
# tests/cluster/tlib.sh: helpers shared by test, demo, chaos and compare (sourced after lib.sh).
#
# Every function returns non-zero on failure and never exits, so callers under `set -e` use them
# in conditions. Background processes started here are recorded in T_PIDS; t_stop_bg kills them.

T_PIDS=()          # background PIDs (client ping, captures, samplers) to kill on exit
T_PASS=0 T_FAIL=0  # t_ok / t_bad counters
T_WORK=${T_WORK:-}  # scratch directory (t_workdir)

t_workdir() { T_WORK=$(mktemp -d "/tmp/hanet-$1.XXXXXX"); }

# t_ts: wall clock as HH:MM:SS.mmm
t_ts() { local us; us=$(lab_now); printf '%(%T)T.%03d' "${us:0:-6}" $((10#${us: -6} / 1000)); }

t_say() { printf '%s %s\n' "$(t_ts)" "$*"; }
t_ok() { T_PASS=$((T_PASS + 1)); printf '%s PASS %s\n' "$(t_ts)" "$*"; }
t_bad() { T_FAIL=$((T_FAIL + 1)); printf '%s FAIL %s\n' "$(t_ts)" "$*"; }

# t_check WHAT CMD…: run CMD (output kept in $T_WORK/last.out); PASS if it exits 0.
t_check() {
  local what=$1 rc=0
  shift
  "$@" >"$T_WORK/last.out" 2>&1 || rc=$?
  if ((rc == 0)); then t_ok "$what"; return 0; fi
  t_bad "$what (rc $rc)"
  sed 's/^/      | /' "$T_WORK/last.out" | tail -n 15
  return 1
}

# t_expect WHAT WANT_RC CMD…: PASS if CMD exits WANT_RC; output in $T_WORK/last.out.
t_expect() {
  local what=$1 want=$2 rc=0
  shift 2
  "$@" >"$T_WORK/last.out" 2>&1 || rc=$?
  if ((rc == want)); then t_ok "$what (rc $rc)"; return 0; fi
  t_bad "$what: rc $rc, want $want"
  sed 's/^/      | /' "$T_WORK/last.out" | tail -n 15
  return 1
}

# t_grep WHAT ERE [FILE]: PASS if FILE (default $T_WORK/last.out) has a line matching ERE.
t_grep() {
  local f=${3:-$T_WORK/last.out}
  if grep -Eq -- "$2" "$f"; then t_ok "$1"; return 0; fi
  t_bad "$1: no line matches /$2/"
  sed 's/^/      | /' "$f" | tail -n 15
  return 1
}

# t_wait TIMEOUT_S CMD…: until CMD succeeds (polled every 0.1 s); 1 on timeout.
t_wait() {
  local end
  end=$(($(lab_now) + ${1%.*} * 1000000))
  shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    (($(lab_now) < end)) || return 1
    sleep 0.1
  done
}

t_stop_bg() {
  local p
  for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${T_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  T_PIDS=()
}

# t_kill PID: stop one background process and forget it.
t_kill() {
  local p=$1 q keep=()
  kill "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  for q in "${T_PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  T_PIDS=("${keep[@]}")
}

# t_first_on: the first node that is running.
t_first_on() {
  local n
  for n in $(lab_nodes); do lab_is_on "$n" && { printf '%s\n' "$n"; return 0; }; done
  return 1
}

# t_attr NODE ATTR: the attribute's value for NODE as pacemaker-attrd (asked on NODE) has it.
t_attr() {
  lab_exec "$1" timeout -k 1 10 attrd_updater -Q -n "$2" -N "$1" 2>/dev/null | sed -n 's/.* value="\([^"]*\)".*/\1/p'
}
t_attr_is() { [ "$(t_attr "$1" "$2")" = "$3" ]; }

# t_located RSC [NOT]: RSC runs on exactly one node (not NOT); prints it.
t_located() {
  local obs where
  obs=$(t_first_on) || return 1
  where=$(lab_locate "$1" "$obs") || return 1
  [ -n "$where" ] && [ "$where" != "${2:-}" ] && [ "$(wc -w <<<"$where")" = 1 ] || return 1
  printf '%s\n' "$where"
}

# t_wait_located RSC NOT TIMEOUT: until RSC runs on one node other than NOT; prints the node.
t_wait_located() {
  local end where
  end=$(($(lab_now) + $3 * 1000000))
  while (($(lab_now) < end)); do
    where=$(t_located "$1" "$2") && { printf '%s\n' "$where"; return 0; }
    sleep 0.1
  done
  return 1
}

# t_has_addr NODE IP: IP is configured on one of NODE's interfaces.
t_has_addr() { ip -n "$LAB_NS-$1" -o addr show 2>/dev/null | grep -q " $2/"; }

# t_neigh_mac IP: the client's neighbour entry (MAC) for IP.
t_neigh_mac() {
  lab_client ip neigh show "$1" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}

# t_ping_start IP FILE: the client pings IP every 0.1 s (timestamps, -O); PID in T_PING_PID.
t_ping_start() {
  lab_client ping -D -O -n -i 0.1 -W 1 "$1" >"$2" 2>&1 &
  T_PING_PID=$!
  T_PIDS+=("$T_PING_PID")
}

# t_capture_start FILE: tcpdump of ARP and ICMP with link headers and epoch times in the client
# namespace; PID in T_CAP_PID. Returns once tcpdump listens (≤ 5 s).
t_capture_start() {
  lab_client tcpdump -l -n -e -tt -i eth0 'arp or icmp' >"$1" 2>"$1.err" &
  T_CAP_PID=$!
  T_PIDS+=("$T_CAP_PID")
  local i
  for ((i = 0; i < 50; i++)); do
    grep -q 'listening on' "$1.err" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# t_first_garp FILE IP SINCE_US [MAC]: epoch µs and MAC of the first gratuitous ARP for IP (a
# request "who-has IP tell IP", or a reply "IP is-at" sent to broadcast) in the capture at or after
# SINCE_US, from MAC if given.
t_first_garp() {
  awk -v ip="$2" -v since="$3" -v mac="${4:-}" '
    $5 == "ethertype" && $6 == "ARP" {
      t = $1 * 1e6; if (t < since) next
      src = $2; dst = $4; sub(/,$/, "", dst)
      if (mac != "" && src != mac) next
      g = (index($0, "Request who-has " ip " ") && index($0, " tell " ip ",")) ||
          (index($0, "Reply " ip " is-at ") && dst == "ff:ff:ff:ff:ff:ff")
      if (g) { printf "%.0f %s\n", t, src; exit }
    }' "$1"
}

# t_pct P VALUES…: nearest-rank P-th percentile of the numbers (P in 0..100).
t_pct() {
  local p=$1
  shift
  printf '%s\n' "$@" | sort -n | awk -v p="$p" '{v[NR] = $1} END {
    if (NR == 0) { print "-"; exit }
    r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; print v[r] }'
}

# t_log_first SINCE_US ERE: like lab_log_first, printing only the time (µs) and node.
t_log_first() {
  local ev
  ev=$(lab_log_first "$1" "$2") || return 1
  [ -n "$ev" ] || return 1
  printf '%s\n' "$ev" | cut -f1,2
}
