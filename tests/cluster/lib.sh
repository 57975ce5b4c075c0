# shellcheck shell=bash
# tests/cluster/lib.sh: a real multi-node Pacemaker + corosync cluster on one machine.
#
# Each node nK is a network namespace ($LAB_NS-nK) plus mount, UTS and PID namespaces whose PID 1
# is a small holder process; corosync and pacemakerd run inside. A bridge namespace carries br0
# (ring, 10.77.0.0/24, eth0 in nodes) and br1 (data, 10.78.0.0/24, eth1 in nodes, where VIPs
# live); a client namespace sits on br1 at 10.78.0.100. Nothing touches the host's interfaces,
# addresses, routes or files outside $LAB_DIR: every mount is made inside a node's private mount
# namespace. See README.md in this directory; tests/cluster/lab is the command-line driver.
#
# Source this file from a test (after setting HANET_* variables) or use ./lab. Functions return
# non-zero on failure and never exit the caller.

LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SELF=$LAB_HERE/lab

LAB_DIR=${HANET_LAB_DIR:-/tmp/hanet-lab}         # per-node state, logs, fence requests
LAB_NS=${HANET_LAB_NS:-hlab}                     # netns names: hlab-n1, hlab-br, hlab-client
LAB_TOKEN=${HANET_LAB_TOKEN:-1000}               # corosync totem token (ms)
LAB_REBOOT_DELAY=${HANET_LAB_REBOOT_DELAY:-15}   # fence reboot: seconds off (> token + consensus)
LAB_ONLINE_TIMEOUT=${HANET_LAB_ONLINE_TIMEOUT:-90}
LAB_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LAB_RING=10.77.0      # .K = node K on br0 (eth0)
LAB_DATA=10.78.0      # .K = node K on br1 (eth1)
LAB_CLIENT_IP=$LAB_DATA.100
LAB_FENCE_MNT=/run/hanet-lab-fence               # $LAB_DIR/fence as seen inside the nodes
LAB_CLUSTER=hanetlab

# ---------------------------------------------------------------------------------------------
# small helpers

# lab_now: wall clock in microseconds (no fork).
lab_now() { local t=${EPOCHREALTIME//[.,]/}; printf '%s\n' "$t"; }

# lab_secs US: microseconds as seconds with two decimals ("-" for empty).
lab_secs() {
  [ -n "${1:-}" ] || { printf -- '-'; return; }
  local us=$1 sign=''
  ((us < 0)) && { sign=-; us=$((-us)); }
  printf '%s%d.%02d' "$sign" $((us / 1000000)) $((us % 1000000 / 10000))
}

lab_say() { local us; us=$(lab_now); printf '%(%T)T.%03d lab: %s\n' "${us:0:-6}" $((10#${us: -6} / 1000)) "$*" >&2; }
lab_die() { lab_say "ERROR: $*"; return 1; }

_lab_nodedir() { printf '%s/nodes/%s' "$LAB_DIR" "$1"; }
_lab_idx() { printf '%s' "${1#n}"; }
_lab_hex() { printf '%02x' "$1"; }
# MACs: eth0 52:54:00:77:00:KK, eth1 52:54:00:78:00:KK; bridge-side peers ...:ff:KK.
_lab_mac() { printf '52:54:00:%s:%s:%s' "$1" "$2" "$(_lab_hex "$3")"; }

# lab_nodes: the lab's node names, one per line.
lab_nodes() {
  [ -r "$LAB_DIR/nodes.list" ] || return 1
  cat "$LAB_DIR/nodes.list"
}

_lab_check_node() {
  case $1 in n[1-9]|n[1-9][0-9]) ;; *) lab_die "bad node name '$1' (want n1, n2, …)"; return 1 ;; esac
  [ -d "$(_lab_nodedir "$1")" ] || { lab_die "no node $1 in $LAB_DIR"; return 1; }
}

# lab_holder_pid NODE: host PID of the node's PID 1 (the holder), if it is alive.
lab_holder_pid() {
  local f p
  f=$(_lab_nodedir "$1")/holder.pid
  [ -r "$f" ] || return 1
  read -r p <"$f" || return 1
  [ -n "$p" ] && [ -r "/proc/$p/status" ] || return 1
  # it must still be PID 1 of its namespace and our holder (PIDs get reused)
  grep -q "^NSpid:[[:space:]]*${p}[[:space:]]\+1\$" "/proc/$p/status" 2>/dev/null || return 1
  grep -qa '_holder' "/proc/$p/cmdline" 2>/dev/null || return 1
  printf '%s\n' "$p"
}

lab_is_on() { lab_holder_pid "$1" >/dev/null; }

# _lab_wait_gone PID: until the process is gone or a zombie (≤ 10 s). A namespace's PID 1 turns
# zombie only after every other process of its PID namespace has been killed and reaped.
_lab_wait_gone() {
  local i st
  for ((i = 0; i < 200; i++)); do
    # not st=$(<file): under `set -e` bash 5.2 exits the caller when that redirection fails, even
    # in a `|| return` list
    { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
    st=${st##*) }
    [ "${st%% *}" = Z ] && return 0
    sleep 0.05
  done
  return 1
}

# _lab_enter NODE HOME cmd…: run cmd in all of the node's namespaces with a clean environment.
_lab_enter() {
  local n=$1 home=$2 hp wd=$PWD
  shift 2
  hp=$(lab_holder_pid "$n") || { lab_die "$n is not running"; return 1; }
  case $wd in /run | /run/* | /dev/shm | /dev/shm/*) wd=/ ;; esac   # private inside the node
  nsenter -t "$hp" -m -u -n -p --wd="$wd" -- env -i PATH="$LAB_PATH" HOME="$home" LANG=C.UTF-8 \
    TERM="${TERM:-dumb}" HANET_LAB_NODE="$n" "$@"
}

# lab_exec NODE cmd…: run a command inside a node (private HOME, sane PATH).
lab_exec() {
  local n=$1
  shift
  _lab_check_node "$n" || return 1
  [ $# -gt 0 ] || set -- bash -i
  _lab_enter "$n" "$(_lab_nodedir "$n")/home" "$@"
}

# lab_client cmd…: run a command in the client namespace (10.78.0.100 on br1).
lab_client() {
  [ $# -gt 0 ] || set -- bash -i
  ip netns exec "$LAB_NS-client" env -i PATH="$LAB_PATH" HOME="$LAB_DIR/client" LANG=C.UTF-8 \
    TERM="${TERM:-dumb}" "$@"
}

# lab_bridge cmd…: run a command in the bridge namespace (br0, br1; e.g. tcpdump -i br1).
lab_bridge() {
  ip netns exec "$LAB_NS-br" env -i PATH="$LAB_PATH" HOME="$LAB_DIR/client" LANG=C.UTF-8 "$@"
}

# ---------------------------------------------------------------------------------------------
# network

_lab_net_up() {
  local br=$LAB_NS-br cl=$LAB_NS-client
  ip netns add "$br" || return 1
  ip -n "$br" link set lo up
  ip -n "$br" link add br0 type bridge stp_state 0 forward_delay 0 || return 1
  ip -n "$br" link add br1 type bridge stp_state 0 forward_delay 0 || return 1
  ip -n "$br" link set br0 up && ip -n "$br" link set br1 up || return 1
  ip netns add "$cl" || return 1
  ip -n "$cl" link set lo up
  ip -n "$br" link add client address 52:54:00:78:ff:64 type veth peer name eth0 netns "$cl" \
    address 52:54:00:78:00:64 || return 1
  ip -n "$br" link set client master br1 up || return 1
  ip -n "$cl" addr add "$LAB_CLIENT_IP/24" dev eth0 && ip -n "$cl" link set eth0 up
}

# _lab_node_net NODE: the node's netns with eth0 (ring) and eth1 (data) on the bridges.
_lab_node_net() {
  local n=$1 k ns=$LAB_NS-$1 br=$LAB_NS-br
  k=$(_lab_idx "$n")
  ip netns add "$ns" || return 1
  ip -n "$ns" link set lo up
  ip -n "$br" link add "$n-ring" address "$(_lab_mac 77 ff "$k")" type veth peer name eth0 \
    netns "$ns" address "$(_lab_mac 77 00 "$k")" || return 1
  ip -n "$br" link add "$n-data" address "$(_lab_mac 78 ff "$k")" type veth peer name eth1 \
    netns "$ns" address "$(_lab_mac 78 00 "$k")" || return 1
  ip -n "$br" link set "$n-ring" master br0 up && ip -n "$br" link set "$n-data" master br1 up ||
    return 1
  _lab_node_links_up "$n"
}

_lab_node_links_up() {
  local n=$1 k ns=$LAB_NS-$1
  k=$(_lab_idx "$n")
  ip -n "$ns" addr replace "$LAB_RING.$k/24" dev eth0 &&
    ip -n "$ns" addr replace "$LAB_DATA.$k/24" dev eth1 &&
    ip -n "$ns" link set eth0 up && ip -n "$ns" link set eth1 up
}

# lab_cut NODE [data|ring] / lab_restore NODE [data|ring]: take the bridge-side end of the
# node's link down or up; the node sees carrier loss (NO-CARRIER) on eth1 or eth0.
lab_cut() { _lab_link "$1" "${2:-data}" down; }
lab_restore() { _lab_link "$1" "${2:-data}" up; }
_lab_link() {
  _lab_check_node "$1" || return 1
  case $2 in data | ring) ;; *) lab_die "link must be data or ring, not '$2'"; return 1 ;; esac
  ip -n "$LAB_NS-br" link set "$1-$2" "$3"
}

# ---------------------------------------------------------------------------------------------
# per-node state and configuration

_lab_corosync_conf() {
  local n k nodes=("$@")
  cat <<EOF
# written by tests/cluster/lab
totem {
    version: 2
    cluster_name: $LAB_CLUSTER
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: $LAB_TOKEN
}

nodelist {
EOF
  for n in "${nodes[@]}"; do
    k=$(_lab_idx "$n")
    printf '    node {\n        name: %s\n        nodeid: %s\n        ring0_addr: %s\n    }\n' \
      "$n" "$k" "$LAB_RING.$k"
  done
  cat <<EOF
}

quorum {
    provider: corosync_votequorum
EOF
  [ ${#nodes[@]} -eq 2 ] && printf '    two_node: 1\n'
  cat <<EOF
}

logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: no
    to_stderr: no
    timestamp: hires
}
EOF
}

_lab_schema() {
  local f v best=''
  for f in /usr/share/pacemaker/pacemaker-[0-9]*.rng; do
    v=${f##*/pacemaker-}
    best+="${v%.rng}"$'\n'
  done
  printf 'pacemaker-%s' "$(printf '%s' "$best" | sort -V | tail -n 1)"
}

# The seeded CIB: fast DC election, fencing through fence_lab, stickiness.
_lab_cib_xml() {
  local hosts=$*
  cat <<EOF
<cib validate-with="$(_lab_schema)" admin_epoch="0" epoch="1" num_updates="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-cluster-name" name="cluster-name" value="$LAB_CLUSTER"/>
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="true"/>
        <nvpair id="cib-bootstrap-options-no-quorum-policy" name="no-quorum-policy" value="stop"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="fence-lab" class="stonith" type="fence_lab">
        <instance_attributes id="fence-lab-instance_attributes">
          <nvpair id="fence-lab-instance_attributes-pcmk_host_list" name="pcmk_host_list" value="$hosts"/>
        </instance_attributes>
        <operations>
          <op id="fence-lab-monitor-interval-60s" name="monitor" interval="60s"/>
        </operations>
      </primitive>
    </resources>
    <constraints/>
    <rsc_defaults>
      <meta_attributes id="rsc_defaults-meta_attributes">
        <nvpair id="rsc_defaults-meta_attributes-resource-stickiness" name="resource-stickiness" value="100"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
  <status/>
</cib>
EOF
}

_lab_node_prepare() {
  local n=$1 nd k m
  shift
  nd=$(_lab_nodedir "$n")
  k=$(_lab_idx "$n")
  mkdir -p "$nd"/{etc-corosync/uidgid.d,lib-corosync,lib-pcsd,home} \
    "$nd"/lib-pacemaker/{cib,pengine,blackbox,cores} \
    "$nd"/lib-heartbeat/{lrm,cores/root,cores/hacluster,cores/nobody} \
    "$nd"/log-{pacemaker,corosync,pcsd,crmsh} || return 1
  chown -R hacluster:haclient "$nd/lib-pacemaker" "$nd/log-pacemaker" "$nd/log-crmsh" \
    "$nd/lib-heartbeat/cores/hacluster"
  chmod 750 "$nd"/lib-pacemaker/* && chmod 770 "$nd/log-pacemaker" && chmod 700 "$nd/lib-pcsd"
  _lab_corosync_conf "$@" >"$nd/etc-corosync/corosync.conf"
  _lab_cib_xml "$@" >"$nd/lib-pacemaker/cib/cib.xml"
  chown hacluster:haclient "$nd/lib-pacemaker/cib/cib.xml" && chmod 600 "$nd/lib-pacemaker/cib/cib.xml"
  {
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    for m in "$@"; do printf '%s.%s\t%s\n' "$LAB_RING" "$(_lab_idx "$m")" "$m"; done
    printf '%s\tclient\n' "$LAB_CLIENT_IP"
  } >"$nd/hosts"
  printf 'on\n' >"$LAB_DIR/fence/state/$n"
}

# _lab_holder NODE: body of the node's PID 1 (runs inside the new namespaces; see lab_poweron).
_lab_holder() {
  local n=$1 nd d
  nd=$(_lab_nodedir "$n")
  trap '' TERM INT HUP
  _lab_holder_mounts "$n" "$nd" || { echo "holder $n: mounts failed" >&2; exit 1; }
  echo ready >"$nd/ready"
  exec 0</dev/null
  # PID 1 of the namespace: orphans (daemons, agents' background children) get reaped by bash.
  while :; do sleep 3600 & wait $!; done
}

_lab_holder_mounts() {
  local n=$1 nd=$2 d
  set -e
  hostname "$n"
  mount -t tmpfs -o mode=0755,size=64m lab-run /run
  mkdir -p /run/lock /run/crm /run/resource-agents "$LAB_FENCE_MNT"
  chmod 1777 /run/lock
  chown hacluster:haclient /run/crm && chmod 0750 /run/crm
  chmod 1755 /run/resource-agents
  mount -t tmpfs -o mode=1777,size=256m lab-shm /dev/shm
  mount --bind "$nd/etc-corosync" /etc/corosync
  mount --bind "$nd/hosts" /etc/hosts
  for d in pacemaker corosync heartbeat pcsd; do
    [ -d "/var/lib/$d" ] && mount --bind "$nd/lib-$d" "/var/lib/$d"
  done
  for d in pacemaker corosync pcsd crmsh; do
    [ -d "/var/log/$d" ] && mount --bind "$nd/log-$d" "/var/log/$d"
  done
  mount --bind "$LAB_DIR/fence" "$LAB_FENCE_MNT"
  # fence_lab appears as /usr/sbin/fence_lab (pacemaker-fenced scans /usr/sbin for fence_*)
  _lab_graft /usr/sbin "$LAB_DIR/graft-sbin"
  if [ -n "${HANET_BIN:-}" ]; then
    _lab_graft /usr/lib/ocf/resource.d "$LAB_DIR/graft-ocf"
    mount --bind "$HANET_BIN" /usr/lib/ocf/resource.d/hanet
    mount -o remount,bind,ro /usr/lib/ocf/resource.d/hanet
  fi
  set +e
}

# _lab_graft DIR STUB: make the entries of STUB appear in DIR, in this mount namespace only.
# A read-only overlay (STUB over DIR); without overlayfs a tmpfs with symlinks to the original.
_lab_graft() {
  local dir=$1 stub=$2 orig
  mount -t overlay -o "lowerdir=$stub:$dir" lab-graft "$dir" 2>/dev/null && return 0
  orig=/run/lab-orig${dir//\//-}
  mkdir -p "$orig" && mount --bind "$dir" "$orig" && mount -t tmpfs -o mode=0755 lab-graft "$dir" &&
    ln -s "$orig"/* "$dir"/ && cp -a "$stub"/. "$dir"/
}

# _lab_start_holder NODE: PID 1 of a fresh node (new mount/UTS/PID namespaces in its netns).
_lab_start_holder() {
  local n=$1 nd up hp i
  nd=$(_lab_nodedir "$n")
  rm -f "$nd/ready" "$nd/holder.pid"
  HANET_LAB_DIR=$LAB_DIR setsid ip netns exec "$LAB_NS-$n" \
    unshare --mount --uts --pid --fork --mount-proc "$LAB_SELF" _holder "$n" \
    </dev/null >>"$nd/holder.log" 2>&1 &
  up=$!
  echo "$up" >"$nd/unshare.pid"
  for ((i = 0; i < 200; i++)); do
    [ -e "$nd/ready" ] && break
    [ -d "/proc/$up" ] || break
    sleep 0.05
  done
  [ -e "$nd/ready" ] || { lab_die "$n: holder did not come up (see $nd/holder.log)"; return 1; }
  read -r hp _ <"/proc/$up/task/$up/children" || true
  [ -n "$hp" ] || { lab_die "$n: cannot find holder PID"; return 1; }
  echo "$hp" >"$nd/holder.pid"
  lab_holder_pid "$n" >/dev/null || { lab_die "$n: holder $hp is not a namespace init"; return 1; }
}

# _lab_start_daemons NODE: corosync, wait for its IPC, then pacemakerd.
_lab_start_daemons() {
  # shellcheck disable=SC2016  # expanded by the node's sh
  _lab_enter "$1" /root sh -c '
    setsid corosync -f </dev/null >/var/log/corosync/stdout.log 2>&1 &
    i=0
    until corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1; do
      i=$((i + 1)); [ $i -lt 200 ] || { echo "corosync did not start" >&2; exit 1; }
      sleep 0.05
    done
    PCMK_logfacility=none PCMK_logfile=/var/log/pacemaker/pacemaker.log \
      setsid pacemakerd </dev/null >/var/log/pacemaker/stdout.log 2>&1 &
  '
}

# ---------------------------------------------------------------------------------------------
# power

# lab_poweroff NODE [fence]: pull the plug: SIGKILL the node's PID 1 (the kernel kills the whole
# PID namespace), then links down and addresses flushed so the netns stops answering (VIP
# included). A manual power-off (no second argument) holds the node off: a fence "reboot" of a
# held node leaves it off; lab_poweron clears the hold.
lab_poweroff() {
  local n=$1 why=${2:-manual} nd hp ns=$LAB_NS-$1
  _lab_check_node "$n" || return 1
  nd=$(_lab_nodedir "$n")
  [ "$why" = manual ] && : >"$nd/held"
  if hp=$(lab_holder_pid "$n"); then
    kill -KILL "$hp"
    _lab_wait_gone "$hp"
  fi
  rm -f "$nd/holder.pid" "$nd/ready"
  ip -n "$ns" link set eth0 down 2>/dev/null
  ip -n "$ns" link set eth1 down 2>/dev/null
  ip -n "$ns" addr flush dev eth0 2>/dev/null
  ip -n "$ns" addr flush dev eth1 2>/dev/null
  printf 'off\n' >"$LAB_DIR/fence/state/$n"
}

# lab_poweron NODE: boot the node again with the same state dirs; starts corosync + pacemakerd.
lab_poweron() {
  local n=$1 nd
  _lab_check_node "$n" || return 1
  nd=$(_lab_nodedir "$n")
  rm -f "$nd/held" "$nd/poweron.pending"
  lab_is_on "$n" && { lab_say "$n is already on"; return 0; }
  _lab_node_links_up "$n" || return 1
  _lab_start_holder "$n" && _lab_start_daemons "$n" || return 1
  printf 'on\n' >"$LAB_DIR/fence/state/$n"
}

# ---------------------------------------------------------------------------------------------
# the host side of fence_lab

# lab_fenced: serve fence_lab requests from $LAB_DIR/fence/req until lab_down.
lab_fenced() {
  local f fd=$LAB_DIR/fence
  trap 'exit 0' TERM INT
  lab_say "fenced: serving $fd (reboot delay ${LAB_REBOOT_DELAY}s)"
  while [ -e "$LAB_DIR/.hanet-lab" ] && [ ! -e "$LAB_DIR/stopping" ]; do
    : >"$fd/alive"
    for f in "$fd"/req/*.req; do
      [ -e "$f" ] && _lab_fence_one "$f"
    done
    sleep 0.1
  done
}

_lab_fence_one() {
  local f=$1 id k v action='' target='' from='' rc=0 msg nd
  id=${f##*/}
  id=${id%.req}
  while IFS='=' read -r k v; do
    case $k in action) action=$v ;; target) target=$v ;; from) from=$v ;; esac
  done <"$f"
  rm -f "$f"
  if ! _lab_check_node "$target" 2>/dev/null; then
    rc=1 msg="unknown node '$target'"
  else
    nd=$(_lab_nodedir "$target")
    case $action in
    off)
      rm -f "$nd/poweron.pending"
      lab_poweroff "$target" fence && msg="powered off" || rc=1 msg="power off failed"
      ;;
    reboot)
      if lab_poweroff "$target" fence; then
        if [ -e "$nd/held" ]; then
          msg="powered off (held off by 'lab poweroff': stays off)"
        else
          echo "$id" >"$nd/poweron.pending"
          msg="powered off; power on in ${LAB_REBOOT_DELAY}s"
          _lab_fence_poweron_later "$target" "$id" &
        fi
      else
        rc=1 msg="power off failed"
      fi
      ;;
    on)
      lab_poweron "$target" && msg="powered on" || rc=1 msg="power on failed"
      ;;
    *) rc=1 msg="unsupported action '$action'" ;;
    esac
  fi
  lab_say "fenced: $action $target (asked by ${from:-?}): rc=$rc $msg"
  printf 'rc=%s\nmsg=%s\n' "$rc" "$msg" >"$LAB_DIR/fence/done/.$id" &&
    mv "$LAB_DIR/fence/done/.$id" "$LAB_DIR/fence/done/$id"
}

_lab_fence_poweron_later() {
  local n=$1 id=$2 nd p
  nd=$(_lab_nodedir "$n")
  sleep "$LAB_REBOOT_DELAY"
  [ -e "$LAB_DIR/stopping" ] && return
  read -r p <"$nd/poweron.pending" 2>/dev/null
  [ "$p" = "$id" ] || return   # superseded by a later request, or powered on by hand
  [ -e "$nd/held" ] && return
  lab_say "fenced: reboot $n: powering on"
  lab_poweron "$n" || lab_say "fenced: power on $n failed"
}

# ---------------------------------------------------------------------------------------------
# up, down, waiting

# shellcheck disable=SC2120
# lab_dc [NODE]: name of the DC as NODE (default: the first running node) sees it.
lab_dc() {
  local obs=${1:-} n xml
  if [ -z "$obs" ]; then
    for n in $(lab_nodes); do lab_is_on "$n" && { obs=$n; break; }; done
  fi
  [ -n "$obs" ] || return 1
  xml=$(_lab_enter "$obs" /root timeout -k 1 10 crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  [[ $xml =~ \<current_dc\ present=\"true\"[^\>]*\ name=\"([^\"]+)\" ]] || return 1
  printf '%s\n' "${BASH_REMATCH[1]}"
}

# lab_wait_online [TIMEOUT [NODES…]]: until crm_mon (from the first listed running node) shows
# the nodes online and the DC's controller is idle (the transition after the joins is done).
# Prints nothing; returns 1 on timeout.
lab_wait_online() {
  local timeout=${1:-$LAB_ONLINE_TIMEOUT} nodes n obs xml end ok dc
  shift || true
  if [ $# -gt 0 ]; then nodes=("$@"); else mapfile -t nodes < <(lab_nodes); fi
  end=$(($(lab_now) + timeout * 1000000))
  while (($(lab_now) < end)); do
    obs=''
    for n in "${nodes[@]}"; do lab_is_on "$n" && { obs=$n; break; }; done
    if [ -n "$obs" ]; then
      xml=$(_lab_enter "$obs" /root timeout -k 1 10 crm_mon -1 --output-as=xml 2>/dev/null)
      ok=1
      [[ $xml =~ \<current_dc\ present=\"true\"[^\>]*\ name=\"([^\"]+)\" ]] || ok=0
      dc=${BASH_REMATCH[1]:-}
      for n in "${nodes[@]}"; do
        [[ $xml =~ \<node\ name=\"$n\"\ [^\>]*online=\"true\" ]] || ok=0
      done
      # crmadmin -S spins forever (100 % CPU, no timeout) when the DC dies under it: bound it
      if ((ok)) && [[ $(_lab_enter "$obs" /root timeout -k 1 5 crmadmin -S "$dc" 2>/dev/null) == *S_IDLE* ]]; then
        return 0
      fi
    fi
    sleep 0.25
  done
  return 1
}

# lab_up [N]: a fresh N-node cluster (default 3), waits until all are online.
lab_up() {
  local count=${1:-3} t0 t1 t2 n i nodes=() pids=() p rc=0
  if ! [[ $count =~ ^[0-9]+$ ]] || ((count < 1 || count > 9)); then
    lab_die "node count 1..9"
    return 1
  fi
  [ "$(id -u)" = 0 ] || { lab_die "must run as root"; return 1; }
  local tool
  for tool in corosync pacemakerd crm_mon nsenter unshare ip python3; do
    command -v "$tool" >/dev/null || PATH=$LAB_PATH command -v "$tool" >/dev/null ||
      { lab_die "missing $tool (apt-get install pacemaker corosync pcs crmsh resource-agents tcpdump iproute2 iputils-ping)"; return 1; }
  done
  if [ -n "${HANET_BIN:-}" ]; then
    HANET_BIN=$(cd "$HANET_BIN" 2>/dev/null && pwd) || { lab_die "HANET_BIN is not a directory"; return 1; }
    export HANET_BIN
  fi
  if [ -e "$LAB_DIR" ] || [ -n "$(_lab_netns_list)" ]; then
    lab_say "previous lab found: tearing it down"
    lab_down
  fi
  t0=$(lab_now)
  for ((i = 1; i <= count; i++)); do nodes+=("n$i"); done
  mkdir -p "$LAB_DIR"/{nodes,client,fence/req,fence/done,fence/state,graft-sbin,graft-ocf/hanet} ||
    return 1
  : >"$LAB_DIR/.hanet-lab"
  printf '%s\n' "${nodes[@]}" >"$LAB_DIR/nodes.list"
  printf '%s\n' "${nodes[@]}" >"$LAB_DIR/fence/nodes"
  ln -s "$LAB_HERE/fence_lab" "$LAB_DIR/graft-sbin/fence_lab"
  {
    printf 'HANET_LAB_DIR=%q\nHANET_LAB_NS=%q\nHANET_LAB_TOKEN=%q\n' "$LAB_DIR" "$LAB_NS" "$LAB_TOKEN"
    printf 'HANET_LAB_REBOOT_DELAY=%q\nHANET_BIN=%q\n' "$LAB_REBOOT_DELAY" "${HANET_BIN:-}"
  } >"$LAB_DIR/lab.env"

  _lab_net_up || { lab_die "network setup failed"; return 1; }
  for n in "${nodes[@]}"; do
    _lab_node_net "$n" || { lab_die "$n: network setup failed"; return 1; }
    _lab_node_prepare "$n" "${nodes[@]}" || { lab_die "$n: state setup failed"; return 1; }
  done

  HANET_LAB_DIR=$LAB_DIR setsid "$LAB_SELF" fenced </dev/null >>"$LAB_DIR/fenced.log" 2>&1 &
  echo $! >"$LAB_DIR/fenced.pid"

  for n in "${nodes[@]}"; do
    _lab_start_holder "$n" || return 1
  done
  t1=$(lab_now)
  for n in "${nodes[@]}"; do
    _lab_start_daemons "$n" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || { lab_die "starting corosync/pacemaker failed"; return 1; }
  lab_say "${#nodes[@]} nodes: namespaces $(lab_secs $((t1 - t0))) s, daemons started $(lab_secs $(($(lab_now) - t0))) s; waiting for online"
  if ! lab_wait_online "$LAB_ONLINE_TIMEOUT" "${nodes[@]}"; then
    lab_die "not all nodes online after ${LAB_ONLINE_TIMEOUT}s"
    lab_status >&2
    return 1
  fi
  t2=$(lab_now)
  lab_say "cluster up: ${nodes[*]} online in $(lab_secs $((t2 - t1))) s after daemon start ($(lab_secs $((t2 - t0))) s total)"
  if [ -n "${HANET_BIN:-}" ]; then
    lab_say "ocf:hanet agents: $(lab_exec n1 crm_resource --list-agents ocf:hanet 2>&1 | tr '\n' ' ')"
  fi
}

# _lab_netns_list: this lab's network namespaces ($LAB_NS-br, -client, -n<K>), and no others.
_lab_netns_list() {
  ip netns list 2>/dev/null | awk -v pre="$LAB_NS" '$1 ~ ("^" pre "-(br|client|n[0-9]+)$") {print $1}'
}

# lab_down: stop everything, delete the namespaces, remove $LAB_DIR (unless HANET_LAB_KEEP=1).
# Safe after a failure and when nothing is running.
lab_down() {
  local n p hp ns
  [ -d "$LAB_DIR" ] && : >"$LAB_DIR/stopping" 2>/dev/null
  # 1. the fence daemon and its pending power-ons (its own process group)
  if [ -r "$LAB_DIR/fenced.pid" ] && read -r p <"$LAB_DIR/fenced.pid" && [ -n "$p" ] &&
    grep -qa fenced "/proc/$p/cmdline" 2>/dev/null; then
    kill -TERM -- "-$p" 2>/dev/null
  fi
  # 2. pacemaker: an orderly shutdown, the DC last (a DC that shuts down while its peers leave
  # waits for their lost actions to time out). Without a DC (interrupted start) just kill.
  local others=() dc
  if dc=$(lab_dc 2>/dev/null); then
    for n in $(lab_nodes 2>/dev/null); do
      [ "$n" != "$dc" ] && lab_is_on "$n" && others+=("$n")
    done
    ((${#others[@]})) && _lab_pcmk_stop "${others[@]}"
    lab_is_on "$dc" && _lab_pcmk_stop "$dc"
  fi
  # 3. power off every node (corosync and anything else in the PID namespace dies with PID 1)
  for n in $(lab_nodes 2>/dev/null); do
    hp=$(lab_holder_pid "$n") || continue
    kill -KILL "$hp"
    _lab_wait_gone "$hp"
  done
  # 4. namespaces: anything still running in them was started by us (client pings, tcpdump)
  for ns in $(_lab_netns_list); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null || lab_say "cannot delete netns $ns"
  done
  # 5. the state directory (nothing of it is mounted on the host: all mounts were per node)
  if [ -e "$LAB_DIR" ]; then
    if [ "${HANET_LAB_KEEP:-0}" = 1 ]; then
      rm -f "$LAB_DIR/stopping"
      lab_say "lab down; state kept in $LAB_DIR"
    elif [ -e "$LAB_DIR/.hanet-lab" ]; then
      if findmnt -rn -o TARGET | grep -q "^$LAB_DIR"; then
        lab_die "something is mounted under $LAB_DIR on the host: not removing it"
        return 1
      fi
      rm -rf "$LAB_DIR"
    else
      lab_say "$LAB_DIR does not look like a lab directory: left alone"
    fi
  fi
}

# sh script: exit 0 if a process named $1 runs in the node (whose /proc shows only its own)
# shellcheck disable=SC2016
_LAB_RUNNING='for f in /proc/[0-9]*/comm; do read -r c <"$f" && [ "$c" = "$1" ] && exit 0; done 2>/dev/null; exit 1'

# _lab_pcmk_stop NODE…: pacemakerd --shutdown on the nodes in parallel; it is asynchronous, so
# poll until pacemakerd is gone (≤ 15 s; lab_down kills whatever is left).
_lab_pcmk_stop() {
  local n p pids=() end left=1
  for n in "$@"; do
    _lab_enter "$n" /root pacemakerd --shutdown >/dev/null 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(($(lab_now) + 15000000))
  while (($(lab_now) < end)); do
    left=0
    for n in "$@"; do
      _lab_enter "$n" /root sh -c "$_LAB_RUNNING" sh pacemakerd && left=1
    done
    ((left)) || return 0
    sleep 0.2
  done
  lab_say "pacemaker still running on $* after 15 s: killing"
  return 1
}

# shellcheck disable=SC2120
# lab_status: crm_mon -1 from the first running node.
lab_status() {
  local n
  for n in $(lab_nodes 2>/dev/null); do
    lab_is_on "$n" && { lab_exec "$n" crm_mon -1 "$@"; return; }
  done
  lab_die "no node is running"
}

# lab_mem: memory per node (RSS and PSS of every process in the node's PID namespace).
lab_mem() {
  local n hp p tot_rss=0 tot_pss=0 rss pss cnt k v
  for n in $(lab_nodes); do
    hp=$(lab_holder_pid "$n") || { printf '%-4s off\n' "$n"; continue; }
    rss=0 pss=0 cnt=0
    for p in /proc/[0-9]*; do
      [[ $p/ns/pid -ef /proc/$hp/ns/pid ]] 2>/dev/null || continue
      cnt=$((cnt + 1))
      while read -r k v _; do
        case $k in Rss:) rss=$((rss + v)) ;; Pss:) pss=$((pss + v)) ;; esac
      done <"$p/smaps_rollup" 2>/dev/null
    done
    printf '%-4s %3d processes  RSS %6d KiB  PSS %6d KiB\n' "$n" "$cnt" "$rss" "$pss"
    tot_rss=$((tot_rss + rss)) tot_pss=$((tot_pss + pss))
  done
  printf 'all  RSS %d MiB  PSS %d MiB\n' $((tot_rss / 1024)) $((tot_pss / 1024))
}

# ---------------------------------------------------------------------------------------------
# helpers for tests

# lab_locate RSC [NODE]: the node(s) where RSC is active, as NODE (default: first running) sees it.
lab_locate() {
  local rsc=$1 obs=${2:-} n
  if [ -z "$obs" ]; then
    for n in $(lab_nodes); do lab_is_on "$n" && { obs=$n; break; }; done
  fi
  [ -n "$obs" ] || return 1
  _lab_enter "$obs" /root timeout -k 1 10 crm_resource --locate -r "$rsc" -Q 2>/dev/null
}

# lab_mac NODE [eth0|eth1]: the fixed MAC of a node interface (default eth1).
lab_mac() {
  case ${2:-eth1} in eth0) _lab_mac 77 00 "$(_lab_idx "$1")" ;; *) _lab_mac 78 00 "$(_lab_idx "$1")" ;; esac
}

# lab_log_first SINCE_US ERE: the earliest line of any node's pacemaker.log at or after SINCE_US
# (microseconds, see lab_now) matching ERE, as "US<TAB>NODE<TAB>line". Log times have ms.
lab_log_first() {
  local since=$1 re=$2 f n best='' line ts us
  for f in "$LAB_DIR"/nodes/*/log-pacemaker/pacemaker.log; do
    [ -r "$f" ] || continue
    n=${f%/log-pacemaker/*}
    n=${n##*/}
    while IFS= read -r line; do
      ts=${line:0:19}
      us=$(date -d "$ts" +%s%6N 2>/dev/null) || continue
      ((us >= since - 1000)) || continue
      if [ -z "$best" ] || ((us < ${best%%$'\t'*})); then best=$us$'\t'$n$'\t'$line; fi
      break
    done < <(grep -E -- "$re" "$f")
  done
  [ -n "$best" ] && printf '%s\n' "$best"
}

# lab_ping_start IP FILE: the client pings IP every 0.1 s with timestamps (ping -D -O) into FILE;
# prints the PID to stop with kill.
lab_ping_start() {
  lab_client ping -D -O -n -i 0.1 -W 1 "$1" >"$2" 2>&1 &
  printf '%s\n' "$!"
}

# lab_ping_gap FILE [SINCE_US]: longest interval between consecutive replies (after SINCE_US) as
# "GAP_US END_US REPLIES UNANSWERED": END_US is the reply that ended the gap (the client
# resumed), 0 if the gap was still open at the end of FILE (measured up to its last line).
lab_ping_gap() {
  awk -v since="${2:-0}" '
    /^\[[0-9.]+\]/ { t = substr($1, 2, length($1) - 2) * 1e6; last = t }
    /bytes from/ {
      if (t < since) { prev = t; next }
      n++
      if (prev && t - prev > gap) { gap = t - prev; end = t }
      prev = t
    }
    /no answer yet/ { if (t >= since) lost++ }
    END {
      if (prev && last - prev > gap) { gap = last - prev; end = 0 }
      printf "%.0f %.0f %d %d\n", gap, end, n, lost
    }
  ' "$1"
}
