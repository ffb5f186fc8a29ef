#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the benchmark machine (scripts/bench copies it to /work):
# boots the guest kernel (scripts/build-guest) RUNS times under
# `lvrun --hv HV`, 1 vCPU, to its shell prompt, then powers it off.
#
#   sh boot-linux.sh lightvisor|kvm RUNS
#
# lvrun timestamps the guest's marks in host TSC ticks: mark 1 when its
# init starts, mark 2 when the shell starts (the prompt). At the prompt,
# with the VM still alive, the hypervisor's exit counters are read:
# lightvisor's per-reason counts and ticks (debugfs lightvisor/exits,
# taken before the boot and at the prompt), KVM's per-kind counts (its
# debugfs files sum the live VMs). Prints BENCH lines (medians over the
# runs) for scripts/bench; exits non-zero if a boot failed.
hv=$1
runs=${2:-3}
dbg=/sys/kernel/debug
status=0

# counters NAME...: the named debugfs counters, "name value" per line
counters() {
	if [ "$hv" = lightvisor ]; then
		awk '{ print $2, $3, $4 }' $dbg/lightvisor/exits
	else
		for f in exits io_exits mmio_exits halt_exits irq_window_exits \
			 nmi_window_exits irq_exits request_irq_exits \
			 signal_exits insn_emulation hypercalls; do
			[ -r $dbg/kvm/$f ] && echo "$f $(cat $dbg/kvm/$f) 0"
		done
	fi
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	rm -f /tmp/boot.in
	mkfifo /tmp/boot.in
	# KVM's counters are per live VM: they start from 0 with each VM.
	if [ "$hv" = lightvisor ]; then counters >/tmp/boot.before; else echo "- 0 0" >/tmp/boot.before; fi
	lvrun --hv "$hv" --mem 256M --vcpus 1 --timeout 600 --initrd /work/initrd.gz \
		--cmdline "console=ttyS0 quiet lvtest=shell" /work/bzImage \
		</tmp/boot.in >/tmp/boot.out 2>&1 &
	pid=$!
	exec 3>/tmp/boot.in
	while ! grep -q '^lvrun: guest mark 2:' /tmp/boot.out; do
		kill -0 $pid 2>/dev/null || break
		sleep 1
	done
	counters >/tmp/boot.after
	echo 'poweroff -f' >&3
	wait $pid
	st=$?
	exec 3>&-
	tick() { sed -n "s/^lvrun: guest mark $1: .* ms, \\([0-9]*\\) TSC.*/\\1/p" /tmp/boot.out; }
	if [ "$st" != 6 ] || [ -z "$(tick 1)" ] || [ -z "$(tick 2)" ]; then
		echo "boot-linux: $hv run $i: lvrun status $st, marks: $(grep -c 'guest mark' /tmp/boot.out)" >&2
		tail -n 20 /tmp/boot.out >&2
		status=1
		continue
	fi
	echo "$(tick 1)" >>/tmp/boot.init
	echo "$(tick 2)" >>/tmp/boot.prompt
	# Exits from lvrun's start to the prompt, by reason: after - before.
	awk 'NR == FNR { c[$1] = $2; t[$1] = $3; next }
	     { printf "%s %d %d\n", $1, $2 - c[$1], $3 - t[$1] }' \
		/tmp/boot.before /tmp/boot.after >/tmp/boot.run$i
done

[ -s /tmp/boot.init ] || exit 1
printf 'BENCH\t%s\tboot.init\t%s\n' "$hv" "$(median </tmp/boot.init)"
printf 'BENCH\t%s\tboot.prompt\t%s\n' "$hv" "$(median </tmp/boot.prompt)"
# Per reason, the median over the runs of its count (and of its ticks).
for name in $(cat /tmp/boot.run* | awk '{ print $1 }' | sort -u); do
	n=$(cat /tmp/boot.run* | awk -v n="$name" '$1 == n { print $2 }' | median)
	t=$(cat /tmp/boot.run* | awk -v n="$name" '$1 == n { print $3 }' | median)
	printf 'BENCH\t%s\tboot.exits.%s\t%s\n' "$hv" "$name" "$n"
	[ "$hv" = lightvisor ] && printf 'BENCH\t%s\tboot.exit_ticks.%s\t%s\n' "$hv" "$name" "$t"
done
rm -f /tmp/boot.init /tmp/boot.prompt /tmp/boot.run* /tmp/boot.before /tmp/boot.after
exit $status
