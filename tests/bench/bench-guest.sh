#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test machine (scripts/bench copies it to /work):
# every workload under lightvisor, then the same under KVM, then the
# guest kernel's boot to its shell prompt (boot-linux.sh) on each.
#
#   sh bench-guest.sh ITERATIONS LIFECYCLES "N..." [FILL] [WORKLOADS]
#
# FILL is lvbench's fill workload (as many VMs as fit), e.g. "fill=60";
# "none" skips it. WORKLOADS, if given, is the list of lvbench workloads
# to run instead of all of them (then "N..." and FILL are not used).
#
# Prints lvbench's BENCH/DENSITY lines and BENCHINFO lines; exits non-zero
# if a workload failed on either side.
iters=${1:-10000}
cycles=${2:-100}
ns=${3:-"1 10 100 1000"}
fill=${4:-fill}
[ "$fill" = none ] && fill=
only=${5:-}
kvmdir=/lib/modules/kvm
# KVM's vendor module: kvm-amd where the CPU has SVM (QEMU -cpu max).
kvm_vendor=kvm_intel
grep -qw svm /proc/cpuinfo && kvm_vendor=kvm_amd
status=0

dens=
for n in $ns; do dens="$dens density=$n"; done
work=${only:-"exits irq lifecycle vmas=0 vmas=2000 $dens $fill"}
# "boot" is not an lvbench workload: it is the guest kernel's boot.
boot=
case " ${only:-boot} " in *" boot "*) boot=3 ;; esac
# Nor is "virtio": guests/virtio-bench.c under lvrun, and virtio-net's
# TCP throughput with the guest kernel.
virtio=
case " ${only:-virtio} " in *" virtio "*) virtio=1 ;; esac
# Nor "snapshot": the guest kernel saved, restored, forked and reset
# (snapshot-linux.sh; lightvisor only: lvrun has no snapshots over KVM).
snapshot=
case " ${only:-snapshot} " in *" snapshot "*) snapshot=1 ;; esac
# Nor "pool": guests started by lvd's prepared lvrun processes, and VMs
# taken from its VM shells, against cold lvrun (pool.sh; lightvisor only).
pool=
case " ${only:-pool} " in *" pool "*) pool=1 ;; esac
# Nor "migrate": a 64 MiB guest migrated between two lvruns
# (migrate-bench.sh; lightvisor only).
migrate=
case " ${only:-migrate} " in *" migrate "*) migrate=1 ;; esac
# Nor "forks": forked Linux guests, paused, until memory runs low
# (density-linux.sh; lightvisor only).
forks=
case " ${only:-forks} " in *" forks "*) forks=1 ;; esac
work=$(echo " $work " | sed 's/ boot / /; s/ virtio / /; s/ snapshot / /; s/ pool / /; s/ migrate / /; s/ forks / /; s/^ *//; s/ *$//')

echo "BENCHINFO	kernel	$(uname -r)"
echo "BENCHINFO	memtotal_kib	$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"

# virtio (guests/virtio-bench.c) under lvrun --hv HV: the kick to
# interrupt trip with the hypervisor's ioeventfd/irqfd, and again through
# exits to lvrun (--virtio-notify exit), the 16550 per byte, block throughput.
virtio_bench() { # HV
	dd if=/dev/zero of=/tmp/vbench.img bs=1M count=8 2>/dev/null
	for how in eventfd exit; do
		opt= suffix=
		[ $how = exit ] && opt="--virtio-notify exit" suffix=_exit
		# shellcheck disable=SC2086
		lvrun --hv "$1" --irqchip $opt --disk /tmp/vbench.img \
			--timeout 600 /guests/virtio-bench.elf >/tmp/vbench.out 2>&1
		st=$?
		if [ $st != 1 ]; then
			echo "bench: virtio-bench on $1 ($how): status $st" >&2
			tail -n 5 /tmp/vbench.out >&2
			return 1
		fi
		tr -d '\r' </tmp/vbench.out | awk -v hv="$1" -v s="$suffix" '
			$1 == "VBENCH" && (s == "" || $2 ~ /^virtio.kick_irq/) {
				printf "BENCH\t%s\t%s%s\t%s\n", hv, $2, s, $3 }'
	done
	rm -f /tmp/vbench.img
}

# lightvisor's VM exits so far, by reason: "NAME COUNT TICKS" lines
# (debugfs exits). KVM's debugfs counters sum the VMs alive only, so
# they say nothing once lvrun is gone.
exit_counts() {
	[ -r /sys/kernel/debug/lightvisor/exits ] &&
		awk '{ print $2, $3, $4 }' /sys/kernel/debug/lightvisor/exits
}

# What exit_counts gained since FILE, as comment lines.
exit_counts_since() { # FILE WHAT
	exit_counts | awk -v what="$2" 'NR == FNR { n[$1] = $2; t[$1] = $3; next }
		$2 != n[$1] { printf "# %s: %s %d exits, %d ticks\n", what,
			      $1, $2 - n[$1], $3 - t[$1] }' "$1" -
}

# virtio-net TCP throughput under lvrun --hv HV: the guest kernel on a tap
# in a network namespace (tests/guests/linux-virtio-net.sh, whose test
# guests/linux/tests/net.sh times 16 MiB each way with BusyBox nc), in KiB
# per second of guest time; both SHA-256 sums must match.
net_bench() { # HV
	d=/tmp/nbench
	rm -rf $d
	mkdir -p $d
	head -c $((16 << 20)) /dev/urandom >$d/host.bin
	exit_counts >/tmp/exits.before
	unshare -n sh /work/linux-virtio-net.sh --in-netns $d --hv "$1"
	[ "$1" != lightvisor ] ||
		exit_counts_since /tmp/exits.before "virtio-net on $1 (boot included)"
	st=$(cat $d/status)
	sent=$(sed -n 's/^LVGUEST-NET-SENT-SHA \([0-9a-f]*\).*/\1/p' $d/out)
	got=$(sha256sum <$d/received.bin | cut -d' ' -f1)
	if [ "$st" != 6 ] || [ -z "$sent" ] || [ "$sent" != "$got" ] ||
	   ! grep -q "^LVGUEST-NET-RECEIVED $((16 << 20)) $(sha256sum <$d/host.bin | cut -d' ' -f1)" $d/out; then
		echo "bench: virtio-net on $1: status $st, data not intact" >&2
		grep LVGUEST $d/out | tail -n 5 >&2
		rm -rf $d
		return 1
	fi
	tr -d '\r' <$d/out | awk -v hv="$1" '
		$1 == "LVGUEST-NET-TIME" {
			split($3, s, "-"); split($5, r, "-")
			printf "BENCH\t%s\tvirtio.net_tx\t%.3f\n", hv, 16384 / (s[2] - s[1])
			printf "BENCH\t%s\tvirtio.net_rx\t%.3f\n", hv, 16384 / (r[2] - r[1]) }'
	rm -rf $d
}

# Emulated seconds since boot, to see where a run's time goes.
stamp() { echo "BENCHINFO	uptime_$1	$(cut -d' ' -f1 /proc/uptime)"; }

# A fill holds two mappings and two fds per VM: let memory be the limit.
echo 1048576 >/proc/sys/vm/max_map_count
echo 1048576 >/proc/sys/fs/nr_open

stamp lightvisor_start
# shellcheck disable=SC2086
[ -z "${work# }" ] || lvbench -n "$iters" -l "$cycles" lightvisor $work || status=1
[ -z "$boot" ] || sh /work/boot-linux.sh lightvisor "$boot" || status=1
[ -z "$virtio" ] || virtio_bench lightvisor || status=1
[ -z "$virtio" ] || net_bench lightvisor || status=1
[ -z "$snapshot" ] || sh /work/snapshot-linux.sh 3 8 || status=1
[ -z "$pool" ] || sh /work/pool.sh 20 200 1000 200 || status=1
[ -z "$migrate" ] || sh /work/migrate-bench.sh 3 || status=1
[ -z "$forks" ] || sh /work/density-linux.sh 16 128 4096 || status=1
stamp lightvisor_end

# lightvisor has no VM left: KVM may take VMX (or SVM) now.
if insmod $kvmdir/irqbypass.ko && insmod $kvmdir/kvm.ko &&
   insmod "$kvmdir/$(echo $kvm_vendor | tr _ -).ko"; then
	stamp kvm_start
	echo "BENCHINFO	kvm_vendor	$kvm_vendor"
	echo "BENCHINFO	kvm_preemption_timer	$(cat /sys/module/kvm_intel/parameters/preemption_timer 2>/dev/null)"
	echo "BENCHINFO	kvm_apicv	$(cat /sys/module/$kvm_vendor/parameters/enable_apicv /sys/module/$kvm_vendor/parameters/avic 2>/dev/null | head -n 1)"
	# shellcheck disable=SC2086
	[ -z "${work# }" ] || lvbench -n "$iters" -l "$cycles" kvm $work || status=1
	[ -z "$boot" ] || sh /work/boot-linux.sh kvm "$boot" || status=1
	[ -z "$virtio" ] || virtio_bench kvm || status=1
	[ -z "$virtio" ] || net_bench kvm || status=1
	stamp kvm_end
else
	echo "bench: could not load KVM" >&2
	status=1
fi
rmmod $kvm_vendor 2>/dev/null
rmmod kvm 2>/dev/null
rmmod irqbypass 2>/dev/null
exit $status
