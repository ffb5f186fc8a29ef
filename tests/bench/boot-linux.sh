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
# taken before the boot and at the prompt) and its guest page faults
# (lightvisor/stats), KVM's per-kind counts (its debugfs files sum the
# live VMs). They are read as soon as lvrun prints mark 2 (its stderr is
# a pipe this script blocks on) and with shell builtins only: a guest
# idling at its prompt still takes timer exits, which are not the boot's.
# Prints BENCH lines (medians over the runs) for scripts/bench; exits
# non-zero if a boot failed.
hv=$1
runs=${2:-3}
dbg=/sys/kernel/debug
status=0

# The hypervisor's counters, "name count ticks" per line (ticks 0 where
# the hypervisor keeps none). Builtins only: no fork while the guest runs.
counters() {
	if [ "$hv" = lightvisor ]; then
		while read -r _ name n t; do
			echo "$name $n $t"
		done <$dbg/lightvisor/exits
		while read -r name n; do
			case $name in tdp_faults|tdp_2m_maps) echo "$name $n 0" ;; esac
		done <$dbg/lightvisor/stats
	else
		# pf_taken: EPT faults; pf_fixed: RAM mapped; pf_emulate: MMIO
		# emulated; pages_2m: 2 MiB mappings (a VM statistic).
		for f in exits io_exits mmio_exits halt_exits irq_window_exits \
			 nmi_window_exits irq_exits request_irq_exits \
			 signal_exits insn_emulation hypercalls pf_taken \
			 pf_fixed pf_emulate pages_2m; do
			[ -r $dbg/kvm/$f ] && read -r n <$dbg/kvm/$f && echo "$f $n 0"
		done
	fi
}

# lvrun's output, line by line as it comes: the counters at mark 2, then
# the shell is told to power off.
watch_marks() {
	while IFS= read -r line; do
		echo "$line" >>/tmp/boot.out
		case $line in
		"lvrun: guest mark 2:"*)
			counters >/tmp/boot.after
			echo 'poweroff -f' >&3 ;;
		esac
	done
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	rm -f /tmp/boot.in /tmp/boot.out /tmp/boot.after /tmp/boot.st
	mkfifo /tmp/boot.in
	# lvrun's stdin: held open read-write here, so that it sees no EOF
	# and a write to it never waits for a reader (should lvrun be gone).
	exec 3<>/tmp/boot.in
	# KVM's counters are per live VM: they start from 0 with each VM.
	if [ "$hv" = lightvisor ]; then counters >/tmp/boot.before; else echo "- 0 0" >/tmp/boot.before; fi
	{
		lvrun --hv "$hv" --mem 256M --vcpus 1 --timeout 600 \
			--initrd /work/initrd.cpio \
			--cmdline "console=ttyS0 quiet lvtest=shell" /work/bzImage \
			</tmp/boot.in 3>&-
		echo $? >/tmp/boot.st
	} 2>&1 | watch_marks
	exec 3>&-
	st=$(cat /tmp/boot.st 2>/dev/null)
	[ -s /tmp/boot.after ] || : >/tmp/boot.after
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
	# Ticks only for lightvisor's exit reasons (upper case): the rest
	# are plain counts.
	case $hv:$name in
	lightvisor:[A-Z]*) printf 'BENCH\t%s\tboot.exit_ticks.%s\t%s\n' "$hv" "$name" "$t" ;;
	esac
done
rm -f /tmp/boot.init /tmp/boot.prompt /tmp/boot.run* /tmp/boot.before /tmp/boot.after
exit $status
