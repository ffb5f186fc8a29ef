#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the benchmark machine (scripts/bench copies it to /work):
# instantiation of a VM from lvd's pool against cold creation, with
# hello64.elf under lvrun --stats (lvrun's "instantiation:" line: the
# ticks making, or taking from the pool, the VM, its vCPU and binding
# it). lvd runs throughout, so VMX is on for both and the cold runs pay
# only the creation. BENCH lines, in TSC ticks:
#
#   pool.cold_create        lvrun creating the VM itself, median of COLD runs
#   pool.take               lvrun --pool taking one, median of SERVED runs
#   pool.take_first_tenth   median over the first tenth of those runs
#   pool.take_last_tenth    median over the last tenth
#   pool.cold_start         lvrun start to the vCPUs starting, cold (median)
#   pool.pool_start         the same with --pool (median)
#
#   sh pool.sh COLD SERVED
cold=${1:-20}
served=${2:-200}
status=0
sock=/tmp/lvd-bench.sock

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# run_one OUT_TICKS OUT_START [LVRUN-OPTIONS]: one hello64 run, its two figures.
run_one() {
	out1=$1 out2=$2
	shift 2
	if ! lvrun "$@" --stats /guests/hello64.elf >/tmp/pool.out 2>/tmp/pool.err ||
	   ! grep -q "Hello from 64-bit long mode" /tmp/pool.out; then
		echo "pool bench: lvrun $* failed" >&2
		sed 's/^/  /' /tmp/pool.err | head -5 >&2
		return 1
	fi
	sed -n 's/.*instantiation: [a-z]* the VM and its vCPUs in \([0-9]*\) TSC ticks; vCPUs start \([0-9]*\) TSC.*/\1 \2/p' \
		/tmp/pool.err >/tmp/pool.line
	[ -s /tmp/pool.line ] || { echo "pool bench: no instantiation line" >&2; return 1; }
	cut -d' ' -f1 /tmp/pool.line >>"$out1"
	cut -d' ' -f2 /tmp/pool.line >>"$out2"
}

rm -f $sock /tmp/pool.cold /tmp/pool.coldstart /tmp/pool.take /tmp/pool.poolstart
lvd --pool 4 --socket $sock 2>/tmp/lvd.log &
lvd=$!
i=0
while ! grep -q "pool full" /tmp/lvd.log && kill -0 $lvd 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.2
	i=$((i + 1))
done
grep -q "pool full" /tmp/lvd.log || { echo "pool bench: lvd did not fill its pool" >&2; cat /tmp/lvd.log >&2; exit 1; }

i=0
while [ $i -lt "$cold" ]; do
	run_one /tmp/pool.cold /tmp/pool.coldstart || status=1
	i=$((i + 1))
done
i=0
while [ $i -lt "$served" ]; do
	run_one /tmp/pool.take /tmp/pool.poolstart --pool $sock || status=1
	i=$((i + 1))
done
kill $lvd
wait $lvd 2>/dev/null

tenth=$((served / 10))
[ $tenth -ge 1 ] || tenth=1
printf 'BENCH\tlightvisor\tpool.cold_create\t%s\n' "$(median </tmp/pool.cold)"
printf 'BENCH\tlightvisor\tpool.take\t%s\n' "$(median </tmp/pool.take)"
printf 'BENCH\tlightvisor\tpool.take_first_tenth\t%s\n' "$(head -n $tenth /tmp/pool.take | median)"
printf 'BENCH\tlightvisor\tpool.take_last_tenth\t%s\n' "$(tail -n $tenth /tmp/pool.take | median)"
printf 'BENCH\tlightvisor\tpool.cold_start\t%s\n' "$(median </tmp/pool.coldstart)"
printf 'BENCH\tlightvisor\tpool.pool_start\t%s\n' "$(median </tmp/pool.poolstart)"
printf 'BENCHINFO\tpool_served\t%s\n' "$(wc -l </tmp/pool.take)"
exit $status
