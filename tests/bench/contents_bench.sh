#!/usr/bin/env bash
# File-contents benchmark of globusfs against raw curl, on one globus-emulator
# (a benchmark, not a test: it prints a table and asserts nothing).
#
#   tests/bench/contents_bench.sh [--size-mib N] [--latency-ms N] [--reads N]
#
# Prints: sequential read MiB/s through the mount (cold: empty caches) and
# with curl on the same HTTPS file; random 4 KiB read latency through the
# mount; write MiB/s (cp of a local file into the mount, upload included);
# the daemon's peak RSS. Needs root (drops the kernel page cache), FUSE, and
# a build in ./build (tools/demo.sh or tests/run.sh make one).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BIN=$REPO/build/bin
SIZE_MIB=512
LATENCY_MS=0
READS=300
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --latency-ms) LATENCY_MS=$2; shift 2 ;;
    --reads) READS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for b in globus-emulator globusfs globusfs-auth randread; do
  [ -x "$BIN/$b" ] || { echo "build first: $BIN/$b is missing" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/globusfs-bench-XXXXXX)
MNT=$WORK/mnt
EMU_PID=""
cleanup() {
  grep -qs " $MNT " /proc/mounts && { fusermount3 -u "$MNT" || fusermount3 -u -z "$MNT"; }
  [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/data" "$MNT"
COLL=0e8b3d76-7b4c-4a6f-9a4e-2f7c1d0b5a11
head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/data/big.bin"
head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/upload.bin"

"$BIN/globus-emulator" --state-dir "$WORK/state" --collection "bench=$COLL:$WORK/data" \
  --latency-ms "$LATENCY_MS" >"$WORK/emulator.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 200); do [ -f "$WORK/state/env" ] && break; sleep 0.05; done
. "$WORK/state/env"
export GLOBUSFS_CONFIG_DIR=$WORK/config
BROWSER=$REPO/tools/emulator-browser "$BIN/globusfs-auth" login --collection "$COLL" >/dev/null

mount_fs() {
  "$BIN/globusfs" --collection "bench=$COLL" --cache-dir "$WORK/cache-$1" --log-file "$WORK/globusfs.log" "$MNT"
  DAEMON_PID=$(pgrep -n -f "globusfs --collection bench=$COLL")
}
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
mib_per_s() { awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN { printf "%.0f", b / 1048576 / (t1 - t0) }'; }
now() { date +%s.%N; }

# curl: the ceiling (one GET of the whole file, token from the store).
TOKEN=$(awk -v id="\"$COLL\": {" 'index($0, id) { f = 1 } f && /"access_token"/ { gsub(/.*: "|",?$/, ""); print; exit }' \
  "$GLOBUSFS_CONFIG_DIR/tokens.json")
URL="$GLOBUS_EMULATOR_URL/c/$COLL/big.bin"
drop_caches
t0=$(now)
curl -sf --cacert "$GLOBUS_SDK_VERIFY_SSL" -H "Authorization: Bearer $TOKEN" -H "X-Requested-With: XMLHttpRequest" \
  -o /dev/null "$URL"
t1=$(now)
CURL_MIBS=$(mib_per_s $((SIZE_MIB << 20)) "$t0" "$t1")

# globusfs: cold sequential read (fresh caches), then random 4 KiB reads.
mount_fs cold
drop_caches
t0=$(now)
cat "$MNT/bench/big.bin" > /dev/null
t1=$(now)
FS_MIBS=$(mib_per_s $((SIZE_MIB << 20)) "$t0" "$t1")
RSS_READ=$(awk '/VmHWM/ { print $2 }' /proc/"$DAEMON_PID"/status)
fusermount3 -u "$MNT"
mount_fs random
drop_caches
read -r P50 P90 P99 MEAN < <("$BIN/randread" "$MNT/bench/big.bin" "$READS")

# Write: cp of a local file into the mount (staging + upload at close).
t0=$(now)
cp "$WORK/upload.bin" "$MNT/bench/uploaded.bin"
t1=$(now)
W_MIBS=$(mib_per_s $((SIZE_MIB << 20)) "$t0" "$t1")
RSS_ALL=$(awk '/VmHWM/ { print $2 }' /proc/"$DAEMON_PID"/status)
cmp -s "$WORK/upload.bin" "$WORK/data/uploaded.bin" || echo "WARNING: the uploaded file differs" >&2
fusermount3 -u "$MNT"

printf '\nglobusfs file contents, %s MiB file, %s ms injected latency, %s (%s cores), %s\n\n' \
  "$SIZE_MIB" "$LATENCY_MS" "$(uname -r)" "$(nproc)" "$(date -u +%Y-%m-%d)"
printf '%-34s %12s %12s %8s\n' "measure" "globusfs" "curl" "ratio"
printf '%-34s %12s %12s %8s\n' "sequential read, cold (MiB/s)" "$FS_MIBS" "$CURL_MIBS" \
  "$(awk -v a="$FS_MIBS" -v b="$CURL_MIBS" 'BEGIN { printf "%.2f", a / b }')"
printf '%-34s %12s %12s %8s\n' "random 4 KiB read p50 (ms)" "$P50" "-" "-"
printf '%-34s %12s %12s %8s\n' "random 4 KiB read p99 (ms)" "$P99" "-" "-"
printf '%-34s %12s %12s %8s\n' "write, cp into the mount (MiB/s)" "$W_MIBS" "-" "-"
printf '%-34s %12s %12s %8s\n' "daemon peak RSS, reading (MiB)" "$((RSS_READ / 1024))" "-" "-"
printf '%-34s %12s %12s %8s\n' "daemon peak RSS, random+write (MiB)" "$((RSS_ALL / 1024))" "-" "-"
