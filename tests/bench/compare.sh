#!/usr/bin/env bash
# globusfs against sshfs and rclone mount (sftp), with raw curl as the
# ceiling for the data rows, over one injected round-trip time (issue 7).
#
#   tests/bench/compare.sh [--quick] [--big-mib N] [--rtt-ms N] [--reads N]
#                          [--results DIR] [--tools "globusfs sshfs rclone"]
#                          [--rows "seq_read rand_p50 tar_small ..."]
#
# One command: installs sshfs, rclone and openssh-server if missing (apt),
# builds a data set in a temp dir, serves it both from globus-emulator (two
# collections, src and dst) and from a private sshd on 127.0.0.1, puts a
# delay_proxy (--rtt-ms, default 20) in front of each, mounts each tool in
# turn and measures the same operations through it. Prints a table, writes
# RESULTS_DIR/results.json, results.md and results.svg (default
# tests/bench/results/). A step that fails or runs out of time prints "fail"
# in its cell and the run goes on. Root (apt, sshd, drop_caches) and FUSE;
# it builds what it runs in ./build (installing the build's dependencies on
# a fresh machine). --quick: a 256 MiB big file instead of 1024 MiB.
# --rows: only these rows (names as in results.json: ls_cold ls_warm find
# stat_warm tar_small seq_read rss_read rand_p50 rand_p99 write copy_big
# copy_small rm rss_all ls_huge rss_huge); the others print "-". rand_p50
# and rand_p99 are one measurement, as are the copies and rm with the rows
# they follow, and ls_huge with rss_huge (a mount of its own).
#
# The data set (in the src collection; the sshd serves the same folder):
# many/ 10,000 files; tree/ 20 x 100 folders with one small file each;
# small/ 1,000 files of 4 KiB; big.bin; rm/TOOL/ 1,000 files per tool;
# huge/ 200,000 files of 1 byte (made only when ls_huge or rss_huge runs).
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BIN=$REPO/build/bin
RTT_MS=20
BIG_MIB=1024
READS=200
RESULTS=$REPO/tests/bench/results
TOOLS="globusfs sshfs rclone"
ROWS=""
QUICK=false
KEEP=false
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=true; BIG_MIB=256; shift ;;
    --big-mib) BIG_MIB=$2; shift 2 ;;
    --rtt-ms) RTT_MS=$2; shift 2 ;;
    --reads) READS=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --keep) KEEP=true; shift ;;  # debugging: leave the temp dir (everything is still stopped)
    -h|--help) usage 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; usage 2 >&2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "compare.sh: run as root (apt, sshd, drop_caches)" >&2; exit 1; }
# On a fresh machine: the build's dependencies, then the programs it runs.
if ! dpkg -s libfuse3-dev liblmdb-dev libcurl4-openssl-dev nlohmann-json3-dev >/dev/null 2>&1; then
  tools/install-deps.sh
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build build -j"$(nproc)" --target delay_proxy globus-emulator globusfs globusfs-auth randread >/dev/null ||
  { echo "compare.sh: the build failed" >&2; exit 1; }
BIG_BYTES=$((BIG_MIB << 20))
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
say() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }

# ---------------------------------------------------------------- peers
if ! command -v sshfs >/dev/null || ! command -v rclone >/dev/null || [ ! -x /usr/sbin/sshd ]; then
  say "installing openssh-server sshfs rclone ..."
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get install -y openssh-server sshfs rclone >/dev/null 2>&1 ||
    { timeout 600 apt-get update >/dev/null 2>&1 && timeout 600 apt-get install -y openssh-server sshfs rclone >/dev/null 2>&1; } ||
    say "WARNING: could not install the peers; their cells will say fail"
fi

# ---------------------------------------------------------------- clean-up
WORK=$(mktemp -d /tmp/globusfs-compare-XXXXXX)
DATA=$WORK/data
PIDS=()      # proxies, emulator, sshd, mount daemons: killed at exit
cleanup() {
  local m
  for m in "$WORK"/mnt-*; do
    grep -qs " $m " /proc/mounts || continue
    timeout 60 fusermount3 -u "$m" 2>/dev/null || timeout 10 fusermount3 -uz "$m" 2>/dev/null
  done
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  if grep -qs " $WORK/" /proc/mounts; then
    say "WARNING: something is still mounted under $WORK; not removing it"
  elif $KEEP; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port on 127.0.0.1 (nothing answers a connect to it).
free_port() {
  local p
  while :; do
    p=$(shuf -i 20000-59999 -n 1)
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
# Starts a delay_proxy NAME to TARGET; sets PROXY_PORT (empty if it did not start).
start_proxy() {
  local out=$WORK/proxy-$1.out
  "$BIN/delay_proxy" --listen 0 --target "$2" --rtt-ms "$RTT_MS" >"$out" 2>"$WORK/proxy-$1.err" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  PROXY_PORT=$(head -1 "$out")
}
drop_caches() { timeout 120 sync; echo 3 > /proc/sys/vm/drop_caches; }

# ---------------------------------------------------------------- data set
say "building the data set in $WORK (big file $BIG_MIB MiB) ..."
mkdir -p "$DATA/src/many" "$DATA/src/small" "$DATA/src/tree" "$DATA/dst" "$WORK/config"
head -c 1000000 /dev/urandom | split -b 100 -a 5 -d - "$DATA/src/many/f"          # 10,000 x 100 B
head -c $((1000 * 4096)) /dev/urandom | split -b 4096 -a 4 -d - "$DATA/src/small/f" # 1,000 x 4 KiB
for t in $TOOLS; do
  mkdir -p "$DATA/src/rm/$t"
  head -c $((1000 * 4096)) /dev/urandom | split -b 4096 -a 4 -d - "$DATA/src/rm/$t/f"
done
for d in $(seq -w 0 19); do
  for e in $(seq -w 0 99); do
    mkdir -p "$DATA/src/tree/d$d/e0$e"
    echo "$d/$e" > "$DATA/src/tree/d$d/e0$e/f.txt"
  done
done
if [[ " ${ROWS:-ls_huge} " == *" ls_huge "* || " ${ROWS:-} " == *" rss_huge "* ]]; then
  mkdir -p "$DATA/src/huge"   # two Transfer pages (at most 100,000 entries each)
  head -c 200000 /dev/urandom | split -b 1 -a 6 -d - "$DATA/src/huge/f"
fi
head -c "$BIG_BYTES" /dev/urandom > "$DATA/src/big.bin"
truncate -s "$BIG_BYTES" "$WORK/zero.bin"   # curl's upload: zeros, as dd's

# ---------------------------------------------------------------- emulator
SRC=5a1c3e0e-1b7d-4c11-9a0e-0c0b5e7a0001
DST=5a1c3e0e-1b7d-4c11-9a0e-0c0b5e7a0002
GFS_OK=true
EMU_PORT=$(free_port)
start_proxy emulator "$EMU_PORT"
EMU_PROXY=$PROXY_PORT
"$BIN/globus-emulator" --state-dir "$WORK/state" --port "$EMU_PORT" --public-port "$EMU_PROXY" \
  --collection "src=$SRC:$DATA/src" --collection "dst=$DST:$DATA/dst" >"$WORK/emulator.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -f "$WORK/state/env" ] && break; sleep 0.05; done
if [ -f "$WORK/state/env" ] && [ -n "$EMU_PROXY" ]; then
  # Clients go through the proxy (--public-port already put its port in env;
  # the rewrite makes sure), the test controls straight to the emulator.
  sed -E "/GLOBUS_SDK_SERVICE_URL_|GLOBUS_EMULATOR_URL/ s/127\.0\.0\.1:[0-9]+/127.0.0.1:$EMU_PROXY/" \
    "$WORK/state/env" > "$WORK/env"
  . "$WORK/env"
  export GLOBUSFS_CONFIG_DIR=$WORK/config
  CA=$GLOBUS_SDK_VERIFY_SSL
  CONTROL=https://127.0.0.1:$EMU_PORT/_emulator
  BROWSER=$REPO/tools/emulator-browser timeout 120 "$BIN/globusfs-auth" login \
    --collection "$SRC" --collection "$DST" >"$WORK/login.log" 2>&1 || { GFS_OK=false; say "login failed: $(cat "$WORK/login.log")"; }
else
  GFS_OK=false; say "the emulator did not start: $(cat "$WORK/emulator.log")"
fi
TOKEN=""
$GFS_OK && TOKEN=$(awk -v id="\"$SRC\": {" 'index($0, id) { f = 1 } f && /"access_token"/ { gsub(/.*: "|",?$/, ""); print; exit }' \
  "$GLOBUSFS_CONFIG_DIR/tokens.json")
stats_reset() { $GFS_OK && curl -sf --max-time 10 --cacert "$CA" -X POST "$CONTROL/reset" -o /dev/null; }
# The emulator's per-route request counts, as a JSON object.
stats_requests() {
  curl -sf --max-time 10 --cacert "$CA" "$CONTROL/stats" | sed -n 's/.*"requests":\({[^}]*}\).*/\1/p'
}
# {"transfer.ls":3,"https.get":2} -> "ls 3, get 2" (Transfer and HTTPS calls; Auth left out).
calls_brief() {
  tr -d '{}"' <<<"$1" | tr ',' '\n' | awk -F: '
    $1 ~ /^(transfer|https)\./ && $2 > 0 { n = $1; sub(/^transfer\.|^https\./, "", n)
      sub(/^transfer$/, "xfer", n); sub(/^delete$/, "del", n); sub(/^submission_id$/, "subid", n)
      out = out (out ? ", " : "") n " " $2 }
    END { print out ? out : "none" }'
}

# ---------------------------------------------------------------- sshd
SSH_OK=false
if [ -x /usr/sbin/sshd ]; then
  mkdir -p "$WORK/ssh" /run/sshd && chmod 700 "$WORK/ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_key" </dev/null
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/id" </dev/null
  cp "$WORK/ssh/id.pub" "$WORK/ssh/authorized_keys"
  SSH_PORT=$(free_port)
  cat > "$WORK/ssh/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $WORK/ssh/host_key
PidFile $WORK/ssh/sshd.pid
PermitRootLogin yes
PubkeyAuthentication yes
AuthorizedKeysFile $WORK/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
EOF
  /usr/sbin/sshd -D -f "$WORK/ssh/sshd_config" -E "$WORK/ssh/sshd.log" &
  PIDS+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SSH_PORT") 2>/dev/null && { SSH_OK=true; break; }; sleep 0.05; done
  if $SSH_OK; then start_proxy sshd "$SSH_PORT"; SSH_PROXY=$PROXY_PORT; fi
  $SSH_OK && [ -n "$SSH_PROXY" ] || { SSH_OK=false; say "sshd or its proxy did not start: $(cat "$WORK/ssh/sshd.log" "$WORK/proxy-sshd.err")"; }
fi

# ---------------------------------------------------------------- results
# V[measure|tool] = a number, "fail" or empty (not measured); CALLS[measure] = JSON.
declare -A V CALLS
MEASURES="ls_cold ls_warm find stat_warm tar_small seq_read rss_read rand_p50 rand_p99 write copy_big copy_small rm rss_all ls_huge rss_huge"
ROWS=${ROWS:-$MEASURES}
for r in $ROWS; do [[ " $MEASURES " == *" $r "* ]] || { echo "compare.sh: no row named $r (rows: $MEASURES)" >&2; exit 2; }; done
want() { local r; for r in "$@"; do [[ " $ROWS " == *" $r "* ]] && return 0; done; return 1; }
declare -A LABEL UNIT BETTER
def() { LABEL[$1]=$2; UNIT[$1]=$3; BETTER[$1]=$4; }
def ls_cold "ls -l, 10,000-file folder, cold" s lower
def ls_warm "ls -l, 10,000-file folder, warm" s lower
def find "find, 2,000-folder tree (first walk)" s lower
def stat_warm "stat 1,000 files, warm" s lower
def tar_small "tar c of 1,000 files of 4 KiB, cold data" s lower
def seq_read "sequential read $BIG_MIB MiB, cold" MiB/s higher
def rss_read "daemon peak RSS after the reads above" MiB lower
def rand_p50 "random 4 KiB reads, cold, p50" ms lower
def rand_p99 "random 4 KiB reads, cold, p99" ms lower
def write "write $BIG_MIB MiB (dd conv=fsync) until stored" MiB/s higher
def copy_big "copy $BIG_MIB MiB file src -> dst until stored" s lower
def copy_small "copy 1,000 small files src -> dst until stored" s lower
def rm "rm -r 1,000 files until deleted" s lower
def rss_all "daemon peak RSS, second mount (rows above)" MiB lower
def ls_huge "ls -l, 200,000-file folder, cold" s lower
def rss_huge "daemon peak RSS, ls -l of 200,000 files" MiB lower
NOTES=()
note() { NOTES+=("$*"); say "NOTE: $*"; }

# Runs SNIPPET (bash) bounded by LIMIT seconds; sets ELAPSED. Output to the step log.
export -f now
wait_size() { while [ "$(stat -c %s "$1" 2>/dev/null || echo -1)" != "$2" ]; do sleep 0.05; done; }
wait_tree() {  # DIR FILES BYTES: every file there, whole
  while [ "$(find "$1" -type f -printf '%s\n' 2>/dev/null | awk '{ n++; s += $1 } END { print n + 0, s + 0 }')" != "$2 $3" ]; do
    sleep 0.1
  done
}
wait_gone() { while [ -e "$1" ]; do sleep 0.05; done; }
export -f wait_size wait_tree wait_gone
timed() {
  local limit=$1 snippet=$2 t0 t1 rc
  echo "+ [$TOOL] $snippet" >>"$WORK/steps.log"
  t0=$(now)
  timeout -k 5 "$limit" bash -c "$snippet" >>"$WORK/steps.log" 2>&1
  rc=$?
  t1=$(now)
  ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  if [ $rc != 0 ]; then
    echo "  -> exit $rc after $ELAPSED s" >>"$WORK/steps.log"
    [ $rc = 124 ] && note "$TOOL: timed out after ${limit}s: $snippet" || note "$TOOL: exit $rc after ${ELAPSED}s: $snippet"
  fi
  return $rc
}
mibs() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.1f", b / 1048576 / t }'; }
set_v() { V[$1|$TOOL]=$2; say "  $TOOL  $(printf '%-48s' "${LABEL[$1]}") $2 ${UNIT[$1]}"; }
# Runs a row: resets the emulator's counters, times SNIPPET, records seconds.
row_time() {
  local m=$1 limit=$2 snippet=$3
  [ "$TOOL" = globusfs ] && stats_reset
  if timed "$limit" "$snippet"; then set_v "$m" "$ELAPSED"; else set_v "$m" fail; fi
  [ "$TOOL" = globusfs ] && CALLS[$m]=$(stats_requests)
}
row_rate() {
  local m=$1 limit=$2 snippet=$3
  [ "$TOOL" = globusfs ] && stats_reset
  if timed "$limit" "$snippet"; then set_v "$m" "$(mibs "$BIG_BYTES" "$ELAPSED")"; else set_v "$m" fail; fi
  [ "$TOOL" = globusfs ] && CALLS[$m]=$(stats_requests)
}
rss_mib() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

# ---------------------------------------------------------------- mounts
DPID=""
wait_mounted() { for _ in $(seq 300); do grep -qs " $1 " /proc/mounts && return 0; sleep 0.1; done; return 1; }
mount_tool() {  # TOOL TAG: mounts at $WORK/mnt-TOOL, sets M and DPID
  M=$WORK/mnt-$1
  mkdir -p "$M"
  DPID=""
  case $1 in
    globusfs)
      $GFS_OK || return 1
      timeout 60 "$BIN/globusfs" --collection "src=$SRC" --collection "dst=$DST" \
        --cache-dir "$WORK/gcache-$2" --log-file "$WORK/globusfs.log" "$M" >>"$WORK/steps.log" 2>&1 || return 1
      DPID=$(pgrep -n -f -- "--cache-dir $WORK/gcache-$2 ")
      ;;
    sshfs)
      $SSH_OK || return 1
      sshfs -f -p "$SSH_PROXY" -o "IdentityFile=$WORK/ssh/id,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR" \
        "root@127.0.0.1:$DATA" "$M" >>"$WORK/sshfs.log" 2>&1 &
      DPID=$!
      ;;
    rclone)
      $SSH_OK || return 1
      # --vfs-write-back 0s: upload at close (not 5 s later); the rows wait for the server anyway.
      rclone mount ":sftp:$DATA" "$M" --config "$WORK/rclone.conf" --cache-dir "$WORK/rclone-cache-$2" \
        --sftp-host 127.0.0.1 --sftp-port "$SSH_PROXY" --sftp-user root --sftp-key-file "$WORK/ssh/id" \
        --vfs-cache-mode writes --vfs-write-back 0s --log-file "$WORK/rclone.log" &
      DPID=$!
      ;;
  esac
  PIDS+=($DPID)
  wait_mounted "$M"
}
unmount_tool() {
  grep -qs " $M " /proc/mounts && { timeout 300 fusermount3 -u "$M" || timeout 10 fusermount3 -uz "$M"; }
  if [ -n "$DPID" ]; then
    for _ in $(seq 600); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DPID" 2>/dev/null && { note "$TOOL: daemon $DPID still running 60 s after unmount; killed"; kill "$DPID"; }
  fi
}

# ---------------------------------------------------------------- measures
measure_tool() {
  TOOL=$1
  local m cnt
  say "== $TOOL"
  if ! mount_tool "$TOOL" a; then
    note "$TOOL: mount failed"; for m in $MEASURES; do V[$m|$TOOL]=fail; done; unmount_tool; return
  fi
  export M DATA TOOL BIG_BYTES BIG_MIB
  drop_caches
  if want ls_cold ls_warm; then
    row_time ls_cold 300 'ls -l "$M/src/many" > "$M.ls"'
    row_time ls_warm 300 'ls -l "$M/src/many" > "$M.ls"'
    cnt=$(wc -l < "$M.ls" 2>/dev/null); [ "${cnt:-0}" = 10001 ] || note "$TOOL: ls -l printed $cnt lines, not 10001"
  fi
  if want find; then
    row_time find 900 'find "$M/src/tree" > "$M.find"'
    cnt=$(wc -l < "$M.find" 2>/dev/null); [ "${cnt:-0}" = 4021 ] || note "$TOOL: find printed $cnt lines, not 4021"
  fi
  if want stat_warm; then
    timeout 300 stat "$M"/src/small/* >/dev/null 2>&1
    row_time stat_warm 300 'stat "$M"/src/small/* > "$M.stat"'
    cnt=$(grep -c '^  File:' "$M.stat" 2>/dev/null); [ "${cnt:-0}" = 1000 ] || note "$TOOL: stat saw $cnt files, not 1000"
  fi
  if want tar_small; then  # the folder's listing may be warm (stat above), its data is not
    # Through a pipe: GNU tar writing to /dev/null itself skips reading the files.
    row_time tar_small 600 'tar cf - -C "$M/src" small | cat > "$M.tar"'
    mkdir -p "$M.untar"
    if [ "${V[tar_small|$TOOL]}" != fail ] &&
      ! { tar xf "$M.tar" -C "$M.untar" && diff -rq "$DATA/src/small" "$M.untar/small"; } >>"$WORK/steps.log" 2>&1; then
      note "$TOOL: tar of small/ read other bytes than the originals"; V[tar_small|$TOOL]=fail
    fi
    rm -rf "$M.tar" "$M.untar"
  fi
  drop_caches
  want seq_read rss_read && row_rate seq_read $((120 + BIG_MIB)) 'cat "$M/src/big.bin" > /dev/null'
  want rss_read && set_v rss_read "$(rss_mib "$DPID")"
  if [ "$TOOL" = globusfs ] && want seq_read; then  # wrong data would be a bug: check it (not timed)
    timeout 600 cmp "$M/src/big.bin" "$DATA/src/big.bin" >>"$WORK/steps.log" 2>&1 ||
      { note "globusfs: big.bin read through the mount differs from the original"; V[seq_read|$TOOL]=fail; }
  fi
  unmount_tool

  want rand_p50 rand_p99 write copy_big copy_small rm rss_all || return
  if ! mount_tool "$TOOL" b; then
    note "$TOOL: second mount failed"
    for m in rand_p50 rand_p99 write copy_big copy_small rm rss_all; do V[$m|$TOOL]=fail; done; unmount_tool; return
  fi
  drop_caches
  stats_reset
  local p50 p90 p99 mean
  if ! want rand_p50 rand_p99; then
    :
  elif read -r p50 p90 p99 mean < <(timeout 600 "$BIN/randread" "$M/src/big.bin" "$READS" 2>>"$WORK/steps.log"); then
    set_v rand_p50 "$p50"; set_v rand_p99 "$p99"
  else
    note "$TOOL: randread failed"; set_v rand_p50 fail; set_v rand_p99 fail
  fi
  want rand_p50 rand_p99 && [ "$TOOL" = globusfs ] && { CALLS[rand_p50]=$(stats_requests); CALLS[rand_p99]=${CALLS[rand_p50]}; }
  # Every row below ends when the server has the result (globusfs: sync DIR waits
  # for its Globus tasks; rclone uploads after close): the same end for all.
  local sync_dst=true sync_src=true
  [ "$TOOL" = globusfs ] && { sync_dst="sync \"\$M/dst\""; sync_src="sync \"\$M/src\""; }
  want write && row_rate write $((300 + BIG_MIB * 2)) \
    'dd if=/dev/zero of="$M/src/write-$TOOL.bin" bs=1M count=$BIG_MIB conv=fsync status=none && wait_size "$DATA/src/write-$TOOL.bin" $BIG_BYTES'
  if ! want copy_big copy_small rm rss_all; then unmount_tool; return; fi
  timeout 60 mkdir -p "$M/dst/$TOOL" || note "$TOOL: mkdir dst/$TOOL failed"
  want copy_big && row_time copy_big $((300 + BIG_MIB * 2)) \
    "cp \"\$M/src/big.bin\" \"\$M/dst/\$TOOL/big.bin\" && $sync_dst && wait_size \"\$DATA/dst/\$TOOL/big.bin\" \$BIG_BYTES"
  if want copy_big && [ "${V[copy_big|$TOOL]}" != fail ] && ! timeout 600 cmp -s "$DATA/src/big.bin" "$DATA/dst/$TOOL/big.bin"; then
    note "$TOOL: the copied big.bin differs from the original"; V[copy_big|$TOOL]=fail
  fi
  want copy_small && row_time copy_small 900 \
    "cp -r \"\$M/src/small\" \"\$M/dst/\$TOOL/small\" && $sync_dst && wait_tree \"\$DATA/dst/\$TOOL/small\" 1000 $((1000 * 4096))"
  if want copy_small && [ "${V[copy_small|$TOOL]}" != fail ] && ! diff -rq "$DATA/src/small" "$DATA/dst/$TOOL/small" >>"$WORK/steps.log" 2>&1; then
    note "$TOOL: the copied small files differ from the originals"; V[copy_small|$TOOL]=fail
  fi
  want rm && row_time rm 600 "rm -r \"\$M/src/rm/\$TOOL\" && $sync_src && wait_gone \"\$DATA/src/rm/\$TOOL\""
  want rss_all && set_v rss_all "$(rss_mib "$DPID")"
  unmount_tool
}

# A folder of 200,000 entries, on a mount of its own (its peak RSS is this
# listing's alone): time and memory.
measure_huge() {
  TOOL=$1
  want ls_huge rss_huge || return
  if ! mount_tool "$TOOL" c; then
    note "$TOOL: third mount failed"; V[ls_huge|$TOOL]=fail; V[rss_huge|$TOOL]=fail; unmount_tool; return
  fi
  drop_caches
  local cnt
  row_time ls_huge 900 'ls -l "$M/src/huge" > "$M.ls"'
  cnt=$(wc -l < "$M.ls" 2>/dev/null)
  [ "${cnt:-0}" = 200001 ] || { note "$TOOL: ls -l of huge/ printed $cnt lines, not 200001"; V[ls_huge|$TOOL]=fail; }
  rm -f "$M.ls"
  want rss_huge && set_v rss_huge "$(rss_mib "$DPID")"
  unmount_tool
}

measure_curl() {
  TOOL=curl
  say "== curl (one HTTPS connection through the same proxy)"
  local url=$GLOBUS_EMULATOR_URL/c/$SRC
  export CURL_AUTH_CA=$CA CURL_TOKEN=$TOKEN CURL_URL=$url WORK
  drop_caches
  want seq_read && row_rate seq_read $((120 + BIG_MIB)) \
    'curl -sf --cacert "$CURL_AUTH_CA" -H "Authorization: Bearer $CURL_TOKEN" -H "X-Requested-With: XMLHttpRequest" -o /dev/null "$CURL_URL/big.bin"'
  # Random 4 KiB ranges, one connection (a curl config with one section per read).
  drop_caches
  awk -v n="$READS" -v blocks=$((BIG_BYTES / 4096 - 1)) -v url="$url/big.bin" -v ca="$CA" -v tok="$TOKEN" 'BEGIN {
    srand(42)
    for (i = 0; i < n; i++) {
      off = int(rand() * blocks) * 4096
      printf "url = \"%s\"\nrange = \"%d-%d\"\noutput = \"/dev/null\"\ncacert = \"%s\"\n", url, off, off + 4095, ca
      printf "header = \"Authorization: Bearer %s\"\nwrite-out = \"%%{time_total}\\n\"\nsilent\nfail\n", tok
      if (i < n - 1) print "next"
    } }' > "$WORK/curl-ranges.conf"
  local times
  if ! want rand_p50 rand_p99; then
    :
  elif times=$(timeout 600 curl -K "$WORK/curl-ranges.conf" 2>>"$WORK/steps.log") && [ "$(wc -l <<<"$times")" = "$READS" ]; then
    read -r p50 p99 < <(sort -n <<<"$times" | awk '{ v[n++] = $1 * 1000 } END {
      i = int(0.5 * n); j = int(0.99 * n); if (j > n - 1) j = n - 1; printf "%.3f %.3f\n", v[i], v[j] }')
    set_v rand_p50 "$p50"; set_v rand_p99 "$p99"
  else
    note "curl: the range reads failed"; set_v rand_p50 fail; set_v rand_p99 fail
  fi
  want write && row_rate write $((300 + BIG_MIB * 2)) \
    'curl -sf --cacert "$CURL_AUTH_CA" -H "Authorization: Bearer $CURL_TOKEN" -H "Expect:" -T "$WORK/zero.bin" -o /dev/null "$CURL_URL/curl-put.bin" && wait_size "$DATA/src/curl-put.bin" $BIG_BYTES'
}

for t in $TOOLS; do
  measure_tool "$t"
  measure_huge "$t"
  [ "$t" = globusfs ] && { if $GFS_OK && [ -n "$TOKEN" ]; then measure_curl; else note "curl: no token"; fi; }
done

# ---------------------------------------------------------------- output
fmt() {  # value unit
  case $1 in
    ""|fail) printf '%s' "${1:--}" ;;
    *) awk -v v="$1" -v u="$2" 'BEGIN {
         if (u == "s") printf (v < 0.1 ? "%.3f" : v < 10 ? "%.2f" : "%.1f"), v
         else if (u == "ms") printf (v < 10 ? "%.2f" : "%.1f"), v
         else printf (v < 10 ? "%.1f" : "%.0f"), v }' ;;
  esac
}
isnum() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
# How many times better globusfs is than PEER on a measure (time: peer/globusfs,
# throughput: globusfs/peer); empty when either is missing.
ratio() {
  local g=${V[$1|globusfs]:-} p=${V[$1|$2]:-}
  isnum "$g" && isnum "$p" || { printf ''; return; }
  awk -v g="$g" -v p="$p" -v b="${BETTER[$1]}" 'BEGIN {
    if (g <= 0 || p <= 0) exit; r = (b == "higher") ? g / p : p / g; printf (r < 10 ? "%.2f" : "%.1f"), r }'
}
DATE=$(date -u +%Y-%m-%d)
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
# Other work on the machine skews every row: say so.
awk -v a="$LOAD_START" 'BEGIN { exit !(a > 0.5) }' && note "the machine was busy when the run started (load average $LOAD_START)"
KERNEL=$(uname -r)
HEADER="globusfs vs sshfs vs rclone mount (sftp), $RTT_MS ms RTT (delay_proxy), big file $BIG_MIB MiB, $KERNEL, $(nproc) cores, $DATE"
mkdir -p "$RESULTS"
{
  echo "$HEADER"
  echo
  echo "| measure | unit | globusfs | sshfs | rclone | curl | sshfs÷globusfs | rclone÷globusfs | globusfs calls |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for m in $MEASURES; do
    calls=""; [ -n "${CALLS[$m]:-}" ] && calls=$(calls_brief "${CALLS[$m]}")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$m]}" "${UNIT[$m]}" \
      "$(fmt "${V[$m|globusfs]:-}" "${UNIT[$m]}")" "$(fmt "${V[$m|sshfs]:-}" "${UNIT[$m]}")" \
      "$(fmt "${V[$m|rclone]:-}" "${UNIT[$m]}")" "$(fmt "${V[$m|curl]:-}" "${UNIT[$m]}")" \
      "$(ratio "$m" sshfs)" "$(ratio "$m" rclone)" "$calls"
  done
  echo
  echo "Ratios: how many times better globusfs is (time, latency, memory: peer ÷ globusfs; MiB/s: globusfs ÷ peer); below 1 the peer is better."
  echo "globusfs calls: Transfer (ls, stat, mkdir, subid = submission_id, xfer = transfer task, del = delete task, task = task polls) and HTTPS (get, put) requests the emulator answered during the row."
  echo "curl: one GET of the file; $READS ranged GETs on one connection; one PUT of $BIG_MIB MiB of zeros; all through the same proxy."
  echo "\"until stored\": the row ends when the server holds the result (globusfs: \`sync DIR\` waits for its Globus tasks, which start after the emulator's 500 ms task delay; rclone uploads after close, --vfs-cache-mode writes --vfs-write-back 0s)."
  echo "Peak RSS: VmHWM of the globusfs, sshfs (not its ssh child) and rclone processes."
  for n in "${NOTES[@]}"; do echo "- $n"; done
} > "$RESULTS/results.md"
echo
# The same table, aligned for the terminal.
sed -n '3,$p' "$RESULTS/results.md" | awk -F' [|] ' '
  /^\| ---/ { next } /^\|/ { sub(/^\| /, ""); sub(/ \|$/, ""); n++; for (i = 1; i <= NF; i++) { c[n, i] = $i; if (length($i) > w[i]) w[i] = length($i) } nf = NF; next }
  { rest = rest $0 "\n" }
  END { for (r = 1; r <= n; r++) { line = ""; for (i = 1; i <= nf; i++) line = line sprintf(i <= 2 || i == nf ? "%-*s  " : "%*s  ", w[i], c[r, i]); sub(/ +$/, "", line); print line }
        printf "%s", rest }' > "$RESULTS/results.txt"
{ echo "$HEADER"; echo; cat "$RESULTS/results.txt"; }

# JSON: values are numbers, "fail", or null (not measured).
jv() { local v=${1:-}; if isnum "$v"; then printf '%s' "$v"; elif [ "$v" = fail ]; then printf '"fail"'; else printf 'null'; fi; }
jr() { local r; r=$(ratio "$1" "$2"); [ -n "$r" ] && printf '%s' "$r" || printf 'null'; }
{
  printf '{\n  "benchmark": "globusfs-compare",\n  "date": "%s",\n' "$DATE"
  printf '  "machine": {"os": "%s", "kernel": "%s", "cores": %s, "memory_mib": %s, "loadavg_start": %s, "loadavg_end": %s},\n' \
    "$(. /etc/os-release; echo "$PRETTY_NAME")" "$KERNEL" "$(nproc)" "$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" \
    "$LOAD_START" "$LOAD_END"
  printf '  "parameters": {"rtt_ms": %s, "big_mib": %s, "quick": %s, "random_reads": %s, "folder_files": 10000, "tree_folders": 2000, "small_files": 1000, "small_file_bytes": 4096},\n' \
    "$RTT_MS" "$BIG_MIB" "$QUICK" "$READS"
  printf '  "versions": {"globusfs": "%s", "sshfs": "%s", "rclone": "%s", "openssh": "%s", "curl": "%s"},\n' \
    "$("$BIN/globusfs" --version 2>&1 | head -1)" "$(sshfs --version 2>&1 | awk '/SSHFS version/ { print $3 }')" \
    "$(rclone version 2>/dev/null | awk 'NR == 1 { print $2 }')" "$(ssh -V 2>&1 | awk '{ print $1 }' | tr -d ',')" \
    "$(curl --version | awk 'NR == 1 { print $2 }')"
  printf '  "tools": ["globusfs", "sshfs", "rclone", "curl"],\n  "ratio_meaning": "how many times better globusfs is: peer/globusfs for lower-is-better measures, globusfs/peer for MiB/s",\n'
  printf '  "measures": [\n'
  first=true
  for m in $MEASURES; do
    $first || printf ',\n'; first=false
    printf '    {"id": "%s", "label": "%s", "unit": "%s", "better": "%s",\n' "$m" "${LABEL[$m]}" "${UNIT[$m]}" "${BETTER[$m]}"
    printf '     "values": {"globusfs": %s, "sshfs": %s, "rclone": %s, "curl": %s},\n' \
      "$(jv "${V[$m|globusfs]:-}")" "$(jv "${V[$m|sshfs]:-}")" "$(jv "${V[$m|rclone]:-}")" "$(jv "${V[$m|curl]:-}")"
    printf '     "ratio": {"sshfs": %s, "rclone": %s},\n' "$(jr "$m" sshfs)" "$(jr "$m" rclone)"
    printf '     "globusfs_requests": %s}' "${CALLS[$m]:-null}"
  done
  printf '\n  ],\n  "notes": ['
  first=true
  for n in "${NOTES[@]}"; do
    $first || printf ','; first=false
    printf '\n    "%s"' "$(sed 's/\\/\\\\/g; s/"/\\"/g' <<<"$n")"
  done
  printf '\n  ]\n}\n'
} > "$RESULTS/results.json"

# SVG: one group per measure, one bar per tool, each as its cost relative to
# globusfs (time, or 1/throughput) on a log scale: globusfs = 1, longer = worse.
for m in $MEASURES; do
  printf '%s (%s)\t%s\t%s\t%s\t%s\t%s\n' "${LABEL[$m]}" "${UNIT[$m]}" "${BETTER[$m]}" \
    "${V[$m|globusfs]:--}" "${V[$m|sshfs]:--}" "${V[$m|rclone]:--}" "${V[$m|curl]:--}"
done | awk -F'\t' -v title="$HEADER" '
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function fl(x) { return x == int(x) ? x : (x < 0 ? int(x) - 1 : int(x)) }
function num(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 > 0 }
function X(r) { return L + (log(r) / log(10) - lo) / (hi - lo) * W }
{ n++; lab[n] = $1; better[n] = $2; for (t = 1; t <= 4; t++) val[n, t] = $(t + 2) }
END {
  name[1] = "globusfs"; name[2] = "sshfs"; name[3] = "rclone"; name[4] = "curl"
  color[1] = "#1f77b4"; color[2] = "#ff7f0e"; color[3] = "#2ca02c"; color[4] = "#8c8c8c"
  lo = -1; hi = 1
  for (i = 1; i <= n; i++) {
    g = val[i, 1]
    for (t = 1; t <= 4; t++) {
      v = val[i, t]; r[i, t] = ""
      if (num(g) && num(v)) {
        r[i, t] = better[i] == "higher" ? g / v : v / g
        l = log(r[i, t]) / log(10); if (l < lo) lo = l; if (l > hi) hi = l
      }
    }
  }
  lo = fl(lo); hi = -fl(-hi)
  L = 390; W = 560; top = 78; bh = 13; gap = 16
  y = top
  for (i = 1; i <= n; i++) {
    k = 0; for (t = 1; t <= 4; t++) if (val[i, t] != "-") k++
    gy[i] = y; y += k * bh + gap
  }
  H = y + 60; WW = L + W + 90
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", WW, H
  printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
  printf "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">%s</text>\n", esc(title)
  printf "<text x=\"10\" y=\"40\">Each measure relative to globusfs = 1 (time, latency, memory as measured; MiB/s inverted), log scale: a longer bar is slower or bigger.</text>\n"
  for (t = 1; t <= 4; t++) {
    printf "<rect x=\"%d\" y=\"50\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"60\">%s</text>\n", 10 + (t - 1) * 100, color[t], 26 + (t - 1) * 100, name[t]
  }
  for (e = lo; e <= hi; e++) {
    x = L + (e - lo) / (hi - lo) * W
    printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"/>\n", x, top - 6, x, H - 50, e == 0 ? "#000" : "#ccc", e == 0 ? 1.5 : 1
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s×</text>\n", x, H - 34, 10 ^ e
  }
  printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">relative to globusfs (log scale)</text>\n", L + W / 2, H - 14
  for (i = 1; i <= n; i++) {
    k = 0
    for (t = 1; t <= 4; t++) if (val[i, t] != "-") k++
    printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 8, gy[i] + k * bh / 2 + 4, esc(lab[i])
    j = 0
    for (t = 1; t <= 4; t++) {
      if (val[i, t] == "-") continue
      by = gy[i] + j * bh; j++
      if (r[i, t] == "") {
        printf "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" fill=\"#c00\">%s: %s</text>\n", L + 4, by + 10, name[t], val[i, t] == "fail" ? "fail" : "no ratio"
        continue
      }
      x2 = X(r[i, t])
      printf "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s: %s</title></rect>\n", L, by, x2 - L, bh - 2, color[t], name[t], val[i, t]
      printf "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">%s</text>\n", x2 + 3, by + 10, sprintf(r[i, t] < 10 ? "%.2f" : "%.0f", r[i, t])
    }
  }
  print "</svg>"
}' > "$RESULTS/results.svg"
say ""
say "results: $RESULTS/results.json, results.md, results.txt, results.svg"
