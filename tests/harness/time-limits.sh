#!/bin/bash
# Host-side tests of scripts/vm-run's time limits (TAP). No limit may be in
# wall-clock time: a slowed emulator must pass, a hung guest must fail in
# bounded time, a guest past its budget of guest time must fail.
#
# usage: tests/harness/time-limits.sh   (run by scripts/check)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

vm() { # ARGS...: vm-run in Bochs (or the --emu given), output in $out,
	# status in $st
	LV_NO_BUILD=1 "$top/scripts/vm-run" --emu bochs "$@" >"$out" 2>&1
	st=$?
}

# 1. The emulator gets a third of the wall time, as on a host loaded
# three times over: the run (about 11 s of guest time) takes longer in
# wall-clock time than its 20 s budget of guest time, which a wall-clock
# limit would have failed, and passes.
start=$SECONDS
vm --throttle 33 --timeout 20 -- sh -c 'echo slow-but-fine'
wall=$((SECONDS - start))
if [ "$st" = 0 ] && grep -q '^slow-but-fine$' "$out" && [ "$wall" -gt 20 ]; then
	ok "throttled emulator passes ($wall s wall for a 20 s guest-time budget)"
else
	sed 's/^/# /' "$out" | tail -n 15
	not_ok "throttled emulator passes (status $st, $wall s wall, needs > 20)"
fi

# 2. A guest that stops making progress (no output, heartbeat stopped)
# fails once the emulator has used --stall seconds of CPU time, however
# long its time budget. (60 s: the quiet boot must fit, even on a loaded
# host.)
# shellcheck disable=SC2016 # expanded in the guest
vm --stall 60 --timeout 100000 -- \
	sh -c 'kill "$(cat /run/lv-heartbeat.pid)"; echo hung; sleep 100000'
if [ "$st" = 125 ] && grep -q '^hung$' "$out" &&
   grep -q 'vm-run: FAIL: no progress' "$out"; then
	ok "silent guest fails as hung ($(grep -o 'guest time [0-9]* s' "$out"))"
else
	sed 's/^/# /' "$out" | tail -n 15
	not_ok "silent guest fails as hung (status $st)"
fi

# 3. A guest that keeps its heartbeat but overruns its budget of guest time.
vm --timeout 20 -- sleep 100000
if [ "$st" = 125 ] && grep -q 'vm-run: FAIL: time budget spent' "$out"; then
	ok "guest over its guest-time budget fails"
else
	sed 's/^/# /' "$out" | tail -n 15
	not_ok "guest over its guest-time budget fails (status $st)"
fi

# 4. A suite's time limit (lv-suite, which scripts/check runs each suite
# with) ends every process of the suite, not only its shell: a process
# left blocked in LV_RUN would keep its VM, and VMX, into the next suite.
# (QEMU: no VMX needed, and it boots faster.)
# shellcheck disable=SC2016 # expanded in the guest
vm --emu qemu --timeout 100 -- sh -c '
	printf "sleep %s &\nsleep %s\n" 4321 4321 >/tmp/leaky.sh
	lv-suite 5 /tmp/leaky.sh
	echo "suite status $?"
	n=0
	for p in /proc/[0-9]*; do
		[ "$(tr "\0" " " 2>/dev/null <$p/cmdline)" = "sleep 4321 " ] &&
			n=$((n + 1))
	done
	echo "left running: $n"'
if [ "$st" = 0 ] && grep -q '^suite status 143$' "$out" &&
   grep -q '^left running: 0$' "$out" &&
   grep -q 'lv-suite: /tmp/leaky.sh left processes running' "$out"; then
	ok "a suite past its time limit leaves no process behind"
else
	sed 's/^/# /' "$out" | tail -n 15
	not_ok "a suite past its time limit leaves no process behind (status $st)"
fi

echo "1..$n"
[ "$failed" = 0 ]
