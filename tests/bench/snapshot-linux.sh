#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the benchmark machine (scripts/bench copies it to /work):
# the guest kernel (scripts/build-guest) under lightvisor, 1 vCPU, 256M,
# booted cold to its shell prompt, saved there (lvctl save), restored to
# the same point, forked into CHILDREN children, one of which is reset
# after it ran. RUNS times; BENCH lines give the medians, in TSC ticks:
#
#   snap.boot_prompt   lvrun's devices created to the prompt (guest mark 2)
#   snap.save          the save, the VM paused (lvrun's "saved" line)
#   snap.restore       lvrun start to the restored vCPUs starting
#   snap.fork_total    lvrun start to the last child's vCPUs started
#   snap.fork_per_child  that over CHILDREN
#   snap.reset         a child's reset, paused (lvrun's "reset" line)
#
#   sh snapshot-linux.sh RUNS CHILDREN
runs=${1:-3}
children=${2:-8}
status=0
d=/tmp/snapbench

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# wait_line FILE PATTERN PID: until FILE has PATTERN or PID is gone
wait_line() {
	while ! grep -q "$2" "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || return 1
		sleep 1
	done
}

# The number in lvrun's line "lvrun: WHAT ... N TSC ticks" of FILE; the
# line may start after the guest's own output (a prompt has no newline).
ticks_of() { # FILE WHAT
	sed -n "s/.*lvrun: $2.* \\([0-9]*\\) TSC ticks.*/\\1/p" "$1" | head -n 1
}

one_run() {
	rm -rf $d
	mkdir -p $d
	mkfifo $d/in
	lvrun --mem 256M --vcpus 1 --timeout 600 --control $d/ctl \
		--initrd /work/initrd.cpio --cmdline "console=ttyS0 quiet lvtest=shell" \
		/work/bzImage <$d/in >$d/boot.out 2>&1 &
	pid=$!
	exec 3>$d/in
	wait_line $d/boot.out 'lvrun: guest mark 2:' $pid || return 1
	lvctl $d/ctl save $d/snap.bin >/dev/null || return 1
	echo 'poweroff -f' >&3
	wait $pid
	exec 3>&-
	boot=$(ticks_of $d/boot.out 'guest mark 2:')
	save=$(ticks_of $d/boot.out 'saved ')

	lvrun --restore $d/snap.bin --timeout 600 </dev/null >$d/restore.out 2>&1 &
	pid=$!
	wait_line $d/restore.out 'lvrun: restored ' $pid || return 1
	kill $pid
	wait $pid
	restore=$(ticks_of $d/restore.out 'restored ')

	lvrun --fork-from $d/snap.bin --count "$children" --fork-out $d/child \
		--control $d/fork --timeout 600 </dev/null >$d/fork.out 2>&1 &
	pid=$!
	k=0
	while [ $k -lt "$children" ]; do
		wait_line $d/child.$k 'lvrun: restored ' $pid || return 1
		k=$((k + 1))
	done
	fork=$(for k in $d/child.*; do ticks_of "$k" 'restored '; done | sort -n | tail -n 1)
	# Child 0 runs on a while (its guest writes pages), then goes back.
	sleep 2
	lvctl $d/fork.0 reset >/dev/null || return 1
	wait_line $d/child.0 'lvrun: reset ' $pid || return 1
	kill $pid
	wait $pid
	reset=$(ticks_of $d/child.0 'reset to the snapshot')

	[ -n "$boot" ] && [ -n "$save" ] && [ -n "$restore" ] && [ -n "$fork" ] &&
		[ -n "$reset" ] || return 1
	echo "$boot" >>/tmp/snap.boot
	echo "$save" >>/tmp/snap.save
	echo "$restore" >>/tmp/snap.restore
	echo "$fork" >>/tmp/snap.fork
	echo "$reset" >>/tmp/snap.reset
}

rm -f /tmp/snap.boot /tmp/snap.save /tmp/snap.restore /tmp/snap.fork /tmp/snap.reset
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	if ! one_run; then
		echo "snapshot-linux: run $i failed" >&2
		tail -n 5 $d/*.out $d/child.0 >&2 2>/dev/null
		status=1
	fi
done
[ -s /tmp/snap.boot ] || exit 1
printf 'BENCH\tlightvisor\tsnap.boot_prompt\t%s\n' "$(median </tmp/snap.boot)"
printf 'BENCH\tlightvisor\tsnap.save\t%s\n' "$(median </tmp/snap.save)"
printf 'BENCH\tlightvisor\tsnap.restore\t%s\n' "$(median </tmp/snap.restore)"
fork=$(median </tmp/snap.fork)
printf 'BENCH\tlightvisor\tsnap.fork_total\t%s\n' "$fork"
printf 'BENCH\tlightvisor\tsnap.fork_per_child\t%s\n' "$((fork / children))"
printf 'BENCH\tlightvisor\tsnap.reset\t%s\n' "$(median </tmp/snap.reset)"
exit $status
