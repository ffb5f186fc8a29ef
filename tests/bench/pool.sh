#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the benchmark machine (scripts/bench copies it to /work):
# instantiation from lvd's pools against cold creation, with hello64.elf
# under lvrun --stats. Two lvds run throughout (so VMX is on for every
# run, and both pools are full and idle while the others run): a pool of
# 4 prepared lvrun processes (lvrun --pool) and one of 4 VM shells
# (lvrun --pool-vm).
#
# The bench machine has one CPU. Each client of the pool of processes
# therefore comes once lvd has refilled the pool (the lvrun that served
# the last one gone, a new one prepared): otherwise the next client
# would share that one CPU with the preparation of its successor, which
# on a machine with a second CPU runs beside it. BACK_TO_BACK more
# clients then come without that pause, for comparison. BENCH lines, in
# TSC ticks:
#
#   pool.cold_start         cold lvrun: its start to the vCPUs starting
#                           (median of COLD runs)
#   pool.proc_start         lvrun --pool: the client's start to the
#                           vCPUs starting in the prepared lvrun (median
#                           of SERVED runs, each from a full pool)
#   pool.proc_first_tenth   the same, median over the first tenth served
#   pool.proc_last_tenth    and over the last tenth
#   pool.proc_request       the prepared lvrun: the client's request
#                           arriving to the vCPUs starting (median)
#   pool.proc_start_b2b     lvrun --pool start to the vCPUs starting,
#                           clients back to back (median of BACK_TO_BACK)
#   pool.proc_request_b2b   the request to the vCPUs starting, the same
#   pool.cold_create        VM level: lvrun creating the VM and its vCPU
#                           (median of the COLD runs)
#   pool.take               VM level: lvrun --pool-vm taking a VM shell
#                           and binding it (median of SHELLS runs)
#   pool.take_first_tenth   over the first tenth of those
#   pool.take_last_tenth    over the last tenth
#   pool.shell_start        lvrun --pool-vm: its start to the vCPUs
#                           starting (median)
#
#   sh pool.sh COLD SHELLS SERVED BACK_TO_BACK
cold=${1:-20}
shells=${2:-200}
served=${3:-1000}
b2b=${4:-200}
status=0
psock=/tmp/lvd-bench.sock
ssock=/tmp/lvd-bench-shells.sock

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# run_one SED-EXPRESSION OUT1 OUT2 [LVRUN-OPTIONS]: one hello64 run; the
# two numbers the expression picks from its --stats line go to the files.
run_one() {
	expr=$1 out1=$2 out2=$3
	shift 3
	if ! lvrun "$@" --stats /guests/hello64.elf >/tmp/pool.out 2>/tmp/pool.err ||
	   ! grep -q "Hello from 64-bit long mode" /tmp/pool.out; then
		echo "pool bench: lvrun $* failed" >&2
		sed 's/^/  /' /tmp/pool.err | head -5 >&2
		return 1
	fi
	sed -n "$expr" /tmp/pool.err >/tmp/pool.line
	[ -s /tmp/pool.line ] || { echo "pool bench: no instantiation line" >&2; return 1; }
	cut -d' ' -f1 /tmp/pool.line >>"$out1"
	cut -d' ' -f2 /tmp/pool.line >>"$out2"
}
vm_line='s/.*instantiation: [a-z]* the VM and its vCPUs in \([0-9]*\) TSC ticks; vCPUs start \([0-9]*\) TSC.*/\1 \2/p'
proc_line='s/.*instantiation: a prepared lvrun (pid [0-9]*) runs the guest; vCPUs start \([0-9]*\) TSC ticks after lvrun started, \([0-9]*\) after.*/\1 \2/p'

stats=/sys/kernel/debug/lightvisor/stats
vcpus() { awk '$1 == "vcpus" { print $2 }' $stats; }
# One read of its status: an exists-then-read pair races with the reaping
# of a zombie (its status file vanishes between the two).
gone() {
	local state

	state=$(sed -n 's/^State:[[:space:]]*//p' /proc/$1/status 2>/dev/null)
	[ -z "$state" ] || [ "${state%% *}" = Z ]
}

# wait_refilled: the last client's lvrun gone (its pid on its --stats
# line), and 4 prepared vCPUs again (lvd --pool 4, 1 vCPU each).
wait_refilled() {
	p=$(sed -n 's/.*a prepared lvrun (pid \([0-9]*\)).*/\1/p' /tmp/pool.err)
	i=0
	while { { [ -n "$p" ] && ! gone "$p"; } || [ "$(vcpus)" != 4 ]; } &&
	      [ $i -lt 2000 ]; do
		sleep 0.02
		i=$((i + 1))
	done
}

# wait_full LOG: until that lvd says its pool is full.
wait_full() {
	i=0
	while ! grep -q "pool full" "$1" && [ $i -lt 600 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	grep -q "pool full" "$1" || { echo "pool bench: lvd did not fill its pool" >&2; cat "$1" >&2; exit 1; }
}

rm -f $psock $ssock /tmp/pool.cold /tmp/pool.coldstart /tmp/pool.take \
	/tmp/pool.shellstart /tmp/pool.proc /tmp/pool.procreq /tmp/pool.b2b \
	/tmp/pool.b2breq
lvd --pool 4 --socket $psock 2>/tmp/lvd.log &
lvd=$!
lvd --shells --pool 4 --socket $ssock 2>/tmp/lvd-shells.log &
lvds=$!
wait_full /tmp/lvd.log
wait_full /tmp/lvd-shells.log

i=0
while [ $i -lt "$cold" ]; do
	run_one "$vm_line" /tmp/pool.cold /tmp/pool.coldstart || status=1
	i=$((i + 1))
done
i=0
while [ $i -lt "$shells" ]; do
	run_one "$vm_line" /tmp/pool.take /tmp/pool.shellstart --pool-vm $ssock || status=1
	i=$((i + 1))
done
# Only the pool of processes from here: its prepared vCPUs are counted.
kill $lvds
wait $lvds 2>/dev/null
k=0
while [ $k -lt "$served" ]; do
	wait_refilled
	run_one "$proc_line" /tmp/pool.proc /tmp/pool.procreq --pool $psock || status=1
	k=$((k + 1))
done
wait_refilled
k=0
while [ $k -lt "$b2b" ]; do
	run_one "$proc_line" /tmp/pool.b2b /tmp/pool.b2breq --pool $psock || status=1
	k=$((k + 1))
done
kill $lvd
wait $lvd 2>/dev/null

ptenth=$((served / 10))
[ $ptenth -ge 1 ] || ptenth=1
stenth=$((shells / 10))
[ $stenth -ge 1 ] || stenth=1
bench() { printf 'BENCH\tlightvisor\t%s\t%s\n' "$1" "$2"; }
bench pool.cold_start "$(median </tmp/pool.coldstart)"
bench pool.proc_start "$(median </tmp/pool.proc)"
bench pool.proc_first_tenth "$(head -n $ptenth /tmp/pool.proc | median)"
bench pool.proc_last_tenth "$(tail -n $ptenth /tmp/pool.proc | median)"
bench pool.proc_request "$(median </tmp/pool.procreq)"
bench pool.proc_start_b2b "$(median </tmp/pool.b2b)"
bench pool.proc_request_b2b "$(median </tmp/pool.b2breq)"
bench pool.cold_create "$(median </tmp/pool.cold)"
bench pool.take "$(median </tmp/pool.take)"
bench pool.take_first_tenth "$(head -n $stenth /tmp/pool.take | median)"
bench pool.take_last_tenth "$(tail -n $stenth /tmp/pool.take | median)"
bench pool.shell_start "$(median </tmp/pool.shellstart)"
printf 'BENCHINFO\tpool_served\t%s\n' "$(wc -l </tmp/pool.proc)"
printf 'BENCHINFO\tpool_served_back_to_back\t%s\n' "$(wc -l </tmp/pool.b2b)"
printf 'BENCHINFO\tpool_shells_served\t%s\n' "$(wc -l </tmp/pool.take)"
exit $status
