#!/usr/bin/env bash
# globusfs demo on a local Globus (globus-emulator), no account needed.
#
#   tools/demo.sh          install dependencies (apt, needs root), build, start the
#                          emulator with two sample collections, log in, mount them
#                          at $GLOBUSFS_DEMO_DIR/globus and show what to try
#   tools/demo.sh stop     unmount, stop the emulator and remove the demo folder
#
# Everything lives in $GLOBUSFS_DEMO_DIR (default /tmp/globusfs-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DEMO=${GLOBUSFS_DEMO_DIR:-/tmp/globusfs-demo}
BIN=$REPO/build/bin

stop() {
  if grep -qs " $DEMO/globus " /proc/mounts; then
    fusermount3 -u "$DEMO/globus" || fusermount3 -u -z "$DEMO/globus"
  fi
  if [ -f "$DEMO/emulator.pid" ]; then
    kill "$(cat "$DEMO/emulator.pid")" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$(cat "$DEMO/emulator.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$DEMO"
  echo "demo stopped; $DEMO removed"
}

if [ "${1:-}" = "stop" ]; then stop; exit 0; fi

# 1. Dependencies and build (skipped when already there).
if ! dpkg -s libfuse3-dev liblmdb-dev libcurl4-openssl-dev nlohmann-json3-dev >/dev/null 2>&1; then
  tools/install-deps.sh
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

# 2. Two sample collections.
[ -d "$DEMO" ] && stop >/dev/null
mkdir -p "$DEMO/data/climate/2024" "$DEMO/data/genomes/refs" "$DEMO/config" "$DEMO/globus"
printf 'station,date,temp_c\nORD,2024-01-01,-3.2\nORD,2024-07-01,27.9\n' > "$DEMO/data/climate/2024/ord.csv"
printf 'Sample climate data served by globus-emulator.\n' > "$DEMO/data/climate/README.txt"
printf '>chr1\nACGTACGTTAGC\n' > "$DEMO/data/genomes/refs/tiny.fa"
head -c 4194304 /dev/urandom > "$DEMO/data/genomes/reads.bin"
CLIMATE=6c54cade-bde5-45c1-bdea-f4bd71dba2cc
GENOMES=31ce9ba0-0f9e-4c7b-8c7c-5e0b7c1a8f31

# 3. Start the emulator in the background; it writes $DEMO/state/env when ready.
"$BIN/globus-emulator" --state-dir "$DEMO/state" \
  --collection "climate=$CLIMATE:$DEMO/data/climate" \
  --collection "genomes=$GENOMES:$DEMO/data/genomes" \
  --identity researcher@example.org --linked-identity researcher@university.edu \
  >"$DEMO/emulator.log" 2>&1 &
echo $! > "$DEMO/emulator.pid"
for _ in $(seq 200); do [ -f "$DEMO/state/env" ] && break; sleep 0.05; done
[ -f "$DEMO/state/env" ] || { cat "$DEMO/emulator.log"; exit 1; }
. "$DEMO/state/env"
export GLOBUSFS_CONFIG_DIR="$DEMO/config"

# 4. Log in (the emulator approves at once; tools/emulator-browser plays the browser).
BROWSER="$REPO/tools/emulator-browser" "$BIN/globusfs-auth" login \
  --collection "$CLIMATE" --collection "$GENOMES"
echo
echo "== globusfs-auth whoami -v"; "$BIN/globusfs-auth" whoami -v

# 5. Mount both collections as folders (the daemon detaches; its log is in $DEMO).
"$BIN/globusfs" --collection "climate=$CLIMATE" --collection "genomes=$GENOMES" \
  --cache-dir "$DEMO/cache" --log-file "$DEMO/globusfs.log" "$DEMO/globus"
echo; echo "== ls -lR $DEMO/globus"; ls -lR "$DEMO/globus"

cat <<MSG

Two Globus collections are mounted at $DEMO/globus (a local Globus at
$GLOBUS_EMULATOR_URL; daemon log: $DEMO/globusfs.log). Try:

  cd $DEMO/globus
  find . -name '*.csv'
  mkdir climate/2025 && mv climate/README.txt climate/2025/ && ls -l climate/2025
  rm -r climate/2025
  getfattr -d genomes/reads.bin          # the Globus collection, path and URL of a file
  cp -r climate genomes/ && sync genomes  # a Globus transfer task, server to server
  $BIN/globusfs status $DEMO/globus       # the tasks, with their Globus task ids
  cp -r genomes climate/ && $BIN/globusfs status $DEMO/globus --watch   # progress until done
  cp climate/2024/ord.csv genomes/ && $BIN/globusfs wait $DEMO/globus genomes  # 0 once landed

The same tools work from another shell once it has the demo's settings:

  . $DEMO/state/env; export GLOBUSFS_CONFIG_DIR=$DEMO/config
  $BIN/globusfs-auth session show
  $BIN/globusfs search clim                # collections by name (Transfer's endpoint_search)
  curl -s --cacert \$GLOBUS_SDK_VERIFY_SSL \$GLOBUS_EMULATOR_URL/_emulator/stats   # what globusfs asked Globus

Stop it all with: tools/demo.sh stop
MSG
