#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the benchmark machine (scripts/bench copies it to /work):
# how many forked Linux guests live at once, and what each costs. The
# guest kernel (scripts/build-guest), 1 vCPU, 256M, is booted cold to its
# shell prompt and saved there (lvctl save, the file on tmpfs); then
# `lvrun --fork-from --count BATCH` starts BATCH children at a time, and
# each child, once restored, is paused (lvctl pause answers only once its
# vCPU thread parked: the thread runs and is not stuck). Paused children
# use no CPU: on the machine's one CPU, running guests with a timer tick
# each (250 Hz) would starve this script long before memory ran out. A
# child runs only from its restore to its pause, and batches are small
# for that: 64 children of one parent running at once all but stopped
# the script. Batches go on until MemAvailable would fall below
# MARGIN_MIB (kept clear of the OOM killer), a batch fails, or MAX
# children live. At the end every child must still answer `status` with
# state=paused.
#
# The lvrun processes (parents and children) run in a memory cgroup of
# their own: its memory.stat gives the kernel memory charged to them
# (slab, kernel stacks, page tables, and lightvisor's VMCS, EPT and run
# pages, all allocated with __GFP_ACCOUNT) and their anonymous memory;
# the snapshot file's pages are charged to the lvrun that saved it,
# outside the cgroup, and counted once, as the snapshot's size.
# BENCH lines (KiB per fork: the whole figure over the children alive;
# a parent per BATCH children is counted in):
#
#   forks.alive                children alive and paused at the end
#   forks.memavail_per_fork    MemAvailable's fall (/proc/meminfo)
#   forks.kernel_per_fork      memory.stat kernel
#   forks.slab_per_fork        memory.stat slab
#   forks.kstack_per_fork      memory.stat kernel_stack
#   forks.pgtables_per_fork    memory.stat pagetables + sec_pagetables
#   forks.kother_per_fork      kernel minus those and percpu, vmalloc:
#                              mostly lightvisor's own pages
#   forks.anon_per_fork        memory.stat anon (written guest pages,
#                              lvrun's heap and stacks)
#   forks.guest_anon_per_fork  of anon, the guest's copies: anonymous
#                              pages in the mappings of the snapshot
#                              file (guest memory written since the fork)
#   forks.rss_per_fork         Rss of the lvrun processes (smaps_rollup)
#   forks.pss_per_fork         Pss of the same: shared pages split
#
#   sh density-linux.sh BATCH MARGIN_MIB MAX
batch=${1:-16}
margin=${2:-128}
max=${3:-4096}
status=0
d=/tmp/densitybench
cg=/sys/fs/cgroup/lvdensity

# wait_line FILE PATTERN PID: until FILE has PATTERN, or PID is gone or
# 300 seconds of the emulated machine passed
wait_line() {
	looks=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		kill -0 "$3" 2>/dev/null || return 1
		looks=$((looks + 1))
		[ $looks -lt 3000 ] || return 1
		sleep 0.1
	done
}

# Until lightvisor has no VM left: the saving lvrun's memory is free.
wait_no_vm() {
	looks=0
	while ! grep -q '^vms 0$' /sys/kernel/debug/lightvisor/stats; do
		looks=$((looks + 1))
		[ $looks -lt 3000 ] || return 1
		sleep 0.1
	done
}

meminfo() { sed -n "s/^$1: *\\([0-9]*\\) kB/\\1/p" /proc/meminfo; }

# A memory.stat field in KiB, 0 if this kernel has no such field.
memstat() {
	v=$(awk -v k="$1" '$1 == k { print $2 }' $cg/memory.stat)
	echo $(((${v:-0}) / 1024))
}

# lvrun's own pages: Rss or Pss of every process in the cgroup, in KiB.
user_mem() {
	t=0
	while read -r p; do
		v=$(sed -n "s/^$1: *\\([0-9]*\\) kB/\\1/p" "/proc/$p/smaps_rollup" 2>/dev/null)
		t=$((t + ${v:-0}))
	done <$cg/cgroup.procs
	echo $t
}

# The guest's written pages: Anonymous of the snapshot file's mappings
# (MAP_PRIVATE: a page the guest writes becomes the child's own), KiB.
guest_anon() {
	t=0
	while read -r p; do
		v=$(awk -v f="$d/snap.bin" '
			/^[0-9a-f]+-[0-9a-f]+ / { in_snap = ($NF == f) }
			in_snap && $1 == "Anonymous:" { n += $2 }
			END { print n + 0 }' "/proc/$p/smaps" 2>/dev/null)
		t=$((t + ${v:-0}))
	done <$cg/cgroup.procs
	echo $t
}

# Ends every lvrun of the cgroup (a parent takes its children along),
# until no task of theirs is left, exiting threads included.
stop_all() {
	looks=0
	while ! grep -q '^populated 0$' $cg/cgroup.events && [ $looks -lt 3000 ]; do
		while read -r p; do kill "$p" 2>/dev/null; done <$cg/cgroup.procs
		looks=$((looks + 1))
		sleep 0.1
	done
}

save_at_prompt() {
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
}

# One batch: BATCH children of one parent, each restored, then paused.
# They run at nice 19: a child runs until this script pauses it, and
# running children that starve the script run on longer, touching more
# pages (a first run without it spent 3 MiB of anonymous memory per fork
# where another spent 1).
fork_batch() { # N
	sh -c "echo \$\$ >$cg/cgroup.procs && renice -n 19 \$\$ >/dev/null &&
		exec lvrun --fork-from $d/snap.bin \
		--count $batch --fork-out $d/b$1 --control $d/c$1 --timeout 7200" \
		</dev/null >"$d/b$1.log" 2>&1 &
	pid=$!
	k=0
	while [ $k -lt "$batch" ]; do
		wait_line "$d/b$1.$k" 'lvrun: restored ' $pid || return 1
		lvctl "$d/c$1.$k" pause | grep -q '^ok state=paused' || return 1
		k=$((k + 1))
	done
}

# Every child of batches 1..N still answers, paused.
all_paused() { # N
	b=1
	while [ $b -le "$1" ]; do
		k=0
		while [ $k -lt "$batch" ]; do
			lvctl $d/c$b.$k status | grep -q '^ok state=paused' || return 1
			k=$((k + 1))
		done
		b=$((b + 1))
	done
}

rm -rf $d
mkdir -p $d
# Let memory be the limit, not processes, threads or maps.
echo 4194304 >/proc/sys/kernel/pid_max
echo 1048576 >/proc/sys/kernel/threads-max
mkdir -p /sys/fs/cgroup
if ! grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts; then
	mount -t cgroup2 none /sys/fs/cgroup || exit 1
fi
echo +memory >/sys/fs/cgroup/cgroup.subtree_control || exit 1
rmdir $cg 2>/dev/null
mkdir $cg || exit 1

save_at_prompt || { echo "density-linux: no snapshot" >&2; exit 1; }
snap_kib=$(du -k $d/snap.bin | cut -f1)
wait_no_vm || { echo "density-linux: the saved VM is still there" >&2; exit 1; }
avail0=$(meminfo MemAvailable)
echo "# density: snapshot $snap_kib KiB on tmpfs; MemAvailable $avail0 KiB before forking"

n=0 alive=0 stop="MAX children ($max)" last=0
while [ $((alive + batch)) -le "$max" ]; do
	avail=$(meminfo MemAvailable)
	# The next batch must leave MARGIN_MIB, at twice the last one's cost.
	if [ $((avail - 2 * last)) -lt $((margin * 1024)) ]; then
		stop="MemAvailable $avail KiB, the margin $margin MiB"
		break
	fi
	n=$((n + 1))
	if ! fork_batch $n; then
		stop="batch $n failed"
		echo "density-linux: batch $n failed" >&2
		tail -n 3 $d/b$n.log >&2
		# Its parent takes the children it started along.
		kill $pid 2>/dev/null
		wait $pid
		n=$((n - 1))
		status=1
		break
	fi
	alive=$((alive + batch))
	last=$((avail - $(meminfo MemAvailable)))
	echo "# density: batch $n: $alive alive, MemAvailable $(meminfo MemAvailable) KiB, cgroup kernel $(memstat kernel) KiB, anon $(memstat anon) KiB, uptime $(cut -d' ' -f1 /proc/uptime) s"
done
if ! all_paused $n; then
	echo "density-linux: a child no longer answers paused" >&2
	status=1
fi

avail1=$(meminfo MemAvailable)
kernel=$(memstat kernel)
slab=$(memstat slab)
kstack=$(memstat kernel_stack)
pgt=$(($(memstat pagetables) + $(memstat sec_pagetables)))
other=$((kernel - slab - kstack - pgt - $(memstat percpu) - $(memstat vmalloc)))
anon=$(memstat anon)
rss=$(user_mem Rss)
pss=$(user_mem Pss)
ganon=$(guest_anon)
procs=$(wc -l <$cg/cgroup.procs)
echo "# density: stopped at: $stop; $procs lvrun processes"

stop_all
rmdir $cg
rm -rf $d

[ "$alive" -gt 0 ] || exit 1
per() { echo $(($1 / alive)); }
printf 'BENCH\tlightvisor\tforks.alive\t%s\n' "$alive"
printf 'BENCH\tlightvisor\tforks.memavail_per_fork\t%s\n' "$(per $((avail0 - avail1)))"
printf 'BENCH\tlightvisor\tforks.kernel_per_fork\t%s\n' "$(per "$kernel")"
printf 'BENCH\tlightvisor\tforks.slab_per_fork\t%s\n' "$(per "$slab")"
printf 'BENCH\tlightvisor\tforks.kstack_per_fork\t%s\n' "$(per "$kstack")"
printf 'BENCH\tlightvisor\tforks.pgtables_per_fork\t%s\n' "$(per "$pgt")"
printf 'BENCH\tlightvisor\tforks.kother_per_fork\t%s\n' "$(per "$other")"
printf 'BENCH\tlightvisor\tforks.anon_per_fork\t%s\n' "$(per "$anon")"
printf 'BENCH\tlightvisor\tforks.guest_anon_per_fork\t%s\n' "$(per "$ganon")"
printf 'BENCH\tlightvisor\tforks.rss_per_fork\t%s\n' "$(per "$rss")"
printf 'BENCH\tlightvisor\tforks.pss_per_fork\t%s\n' "$(per "$pss")"
printf 'BENCHINFO\tforks_stop\t%s\n' "$stop"
printf 'BENCHINFO\tforks_snapshot_kib\t%s\n' "$snap_kib"
printf 'BENCHINFO\tforks_batch\t%s\n' "$batch"
exit $status
