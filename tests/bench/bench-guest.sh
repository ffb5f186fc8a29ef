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
status=0

dens=
for n in $ns; do dens="$dens density=$n"; done
work=${only:-"exits irq lifecycle vmas=0 vmas=2000 $dens $fill"}
# "boot" is not an lvbench workload: it is the guest kernel's boot.
boot=
case " ${only:-boot} " in *" boot "*) boot=3 ;; esac
work=$(echo " $work " | sed 's/ boot / /; s/^ *//; s/ *$//')

echo "BENCHINFO	kernel	$(uname -r)"
echo "BENCHINFO	memtotal_kib	$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"

# Emulated seconds since boot, to see where a run's time goes.
stamp() { echo "BENCHINFO	uptime_$1	$(cut -d' ' -f1 /proc/uptime)"; }

# A fill holds two mappings and two fds per VM: let memory be the limit.
echo 1048576 >/proc/sys/vm/max_map_count
echo 1048576 >/proc/sys/fs/nr_open

stamp lightvisor_start
# shellcheck disable=SC2086
[ -z "${work# }" ] || lvbench -n "$iters" -l "$cycles" lightvisor $work || status=1
[ -z "$boot" ] || sh /work/boot-linux.sh lightvisor "$boot" || status=1
stamp lightvisor_end

# lightvisor has no VM left: KVM may take VMX now.
if insmod $kvmdir/irqbypass.ko && insmod $kvmdir/kvm.ko &&
   insmod $kvmdir/kvm-intel.ko; then
	stamp kvm_start
	echo "BENCHINFO	kvm_preemption_timer	$(cat /sys/module/kvm_intel/parameters/preemption_timer 2>/dev/null)"
	echo "BENCHINFO	kvm_apicv	$(cat /sys/module/kvm_intel/parameters/enable_apicv 2>/dev/null)"
	# shellcheck disable=SC2086
	[ -z "${work# }" ] || lvbench -n "$iters" -l "$cycles" kvm $work || status=1
	[ -z "$boot" ] || sh /work/boot-linux.sh kvm "$boot" || status=1
	stamp kvm_end
else
	echo "bench: could not load KVM" >&2
	status=1
fi
rmmod kvm_intel 2>/dev/null
rmmod kvm 2>/dev/null
rmmod irqbypass 2>/dev/null
exit $status
