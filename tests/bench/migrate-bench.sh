#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the benchmark machine (scripts/bench copies it to /work):
# live migration of a 64 MiB guest between two lvruns on this machine
# over unix:, lightvisor only. Two guests: "idle" is counter.elf (one
# console line per 2M ticks, next to no memory written), "write" is
# memwriter.elf (writes 1 MiB every step). RUNS times each; BENCH lines
# give the medians of lvctl migrate's answer, in TSC ticks:
#
#   migrate.KIND_total     the first page sent to the target's RUNNING
#   migrate.KIND_downtime  the pause to the target's RUNNING
#   migrate.KIND_resume    the pause to the target's first vCPU about to
#                          enter the guest (both lvruns log the TSC of
#                          theirs: one machine, one clock)
#
# The source's downtime ends when it reads RUNNING; a target on the same
# host (unix:) enters the guest only once the source closed the stream
# after that read (at most 100 ms later), so resume, the guest's own gap,
# is the downtime and the source's last steps.
# Each run's downtime phases (source and target) go out as comments.
#
#   sh migrate-bench.sh RUNS
runs=${1:-3}
status=0
d=/tmp/migbench

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# wait_line FILE PATTERN PID: until FILE has PATTERN or PID is gone
wait_line() {
	while ! grep -q "$2" "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 1
	done
}

field() { # ANSWER KEY
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

one_run() { # KIND IMAGE
	rm -rf $d
	mkdir -p $d
	lvrun --mem 64M --timeout 900 --control $d/ctl "/guests/$2" \
		</dev/null >$d/src.out 2>$d/src.err &
	src=$!
	wait_line $d/src.out '^count 3 ' $src || return 1
	lvrun --incoming unix:$d/mig.sock --timeout 900 </dev/null \
		>$d/dst.out 2>$d/dst.err &
	dst=$!
	wait_line $d/dst.err 'incoming: waiting on' $dst || return 1
	ans=$(lvctl --timeout 900 $d/ctl migrate unix:$d/mig.sock)
	echo "# migrate-bench $1: $ans"
	wait $src
	wait_line $d/dst.err 'runs here' $dst
	kill $dst
	wait $dst
	grep -h -e 'downtime from' -e 'runs here' $d/src.err $d/dst.err | sed "s/^/# migrate-bench $1: /"
	paused=$(sed -n 's/.*downtime from the pause at TSC \([0-9]*\),.*/\1/p' $d/src.err)
	entered=$(sed -n 's/.*runs here from TSC \([0-9]*\);.*/\1/p' $d/dst.err)
	if [ -n "$paused" ] && [ -n "$entered" ]; then
		echo "$((entered - paused))" >>"/tmp/mig.$1_resume"
	fi
	total=$(field "$ans" total_ticks)
	down=$(field "$ans" downtime_ticks)
	[ -n "$total" ] && [ -n "$down" ] || return 1
	echo "$total" >>"/tmp/mig.$1_total"
	echo "$down" >>"/tmp/mig.$1_downtime"
}

for kind in idle write; do
	case $kind in
	idle) image=counter.elf ;;
	write) image=memwriter.elf ;;
	esac
	rm -f /tmp/mig.${kind}_total /tmp/mig.${kind}_downtime /tmp/mig.${kind}_resume
	i=0
	while [ $i -lt "$runs" ]; do
		i=$((i + 1))
		if ! one_run $kind "$image"; then
			echo "migrate-bench: $kind run $i failed" >&2
			tail -n 5 $d/src.err $d/dst.err >&2 2>/dev/null
			status=1
		fi
	done
	[ -s /tmp/mig.${kind}_total ] || continue
	printf 'BENCH\tlightvisor\tmigrate.%s_total\t%s\n' $kind "$(median </tmp/mig.${kind}_total)"
	printf 'BENCH\tlightvisor\tmigrate.%s_downtime\t%s\n' $kind "$(median </tmp/mig.${kind}_downtime)"
	[ -s /tmp/mig.${kind}_resume ] &&
		printf 'BENCH\tlightvisor\tmigrate.%s_resume\t%s\n' $kind "$(median </tmp/mig.${kind}_resume)"
done
exit $status
