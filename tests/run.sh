#!/usr/bin/env bash
# Builds globusfs and runs every test (unit, emulator contract, integration
# mounts, reliability) with ctest.
#
# Usage: tests/run.sh [--sanitize] [extra ctest arguments, e.g. -L unit]
#
# --sanitize builds with AddressSanitizer + UBSan (GLOBUSFS_SANITIZE=ON, a
# Debug build in build-asan) and runs the unit, contract, integration and
# reliability labels unless ctest arguments are given (the memory-budget
# test skips itself under ASan). Every instrumented process (the test binaries and the globusfs,
# globusfs-auth and globus-emulator children they start) writes its findings
# to $BUILD_DIR/sanitizer-logs/report.<pid> rather than to stderr, because a
# child's stderr is a log file the tests delete. The run fails, and prints
# them, when any such report exists, even if every test passed.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=0
if [ "${1:-}" = "--sanitize" ]; then
  sanitize=1
  shift
fi

if [ "$sanitize" = 1 ]; then
  BUILD_DIR="${BUILD_DIR:-build-asan}"
  CMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Debug}"
  CMAKE_ARGS="-DGLOBUSFS_SANITIZE=ON ${CMAKE_ARGS:-}"
  # Reliability (faults, crashes, restarts, load) adds about a minute; its
  # memory-budget test skips itself, as ASan's shadow memory and quarantine
  # inflate the daemon's RSS past any budget. bench has no ctest tests.
  if [ "$#" -eq 0 ]; then set -- -L 'unit|contract|integration|reliability'; fi
else
  BUILD_DIR="${BUILD_DIR:-build}"
fi

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
  ${CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j"$(nproc)"

if [ "$sanitize" = 0 ]; then
  exec ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 300 -j"$(nproc)" "$@"
fi

logs="$(cd "$BUILD_DIR" && pwd)/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
# halt_on_error: the first finding ends the process (non-zero exit; the build
# has -fno-sanitize-recover=undefined). LeakSanitizer runs at every
# instrumented process's exit (it works in the FUSE daemon too: the mount is
# gone by then); a daemon or emulator killed with SIGKILL (crash tests) is
# not checked.
# GCC links UBSan as its own runtime (libubsan.so, beside libasan.so) whose
# log_path cannot work: its __sanitizer_set_report_path resolves to ASan's.
# So both get the same log_path (otherwise UBSan's start-up would reset
# ASan's to stderr), UBSan aborts on a finding, and ASan (handle_abort=1)
# writes that abort, with the stack through __ubsan_handle_*, to the report
# file; UBSan's one-line message itself stays on the process's stderr.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:handle_abort=1:log_path=$logs/report${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$logs/report${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
status=0
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 300 -j"$(nproc)" "$@" || status=$?

reports=("$logs"/report.*)
if [ -e "${reports[0]}" ]; then
  for r in "${reports[@]}"; do
    echo "==== sanitizer report $r"
    cat "$r"
  done
  echo "tests/run.sh --sanitize: ${#reports[@]} sanitizer report(s) above" >&2
  exit 1
fi
exit "$status"
