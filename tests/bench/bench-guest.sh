#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test machine (scripts/bench copies it to /work):
# every workload under lightvisor, then the same under KVM.
#
#   sh bench-guest.sh ITERATIONS LIFECYCLES "N..."
#
# Prints lvbench's BENCH/DENSITY lines and BENCHINFO lines; exits non-zero
# if a workload failed on either side.
iters=${1:-10000}
cycles=${2:-100}
ns=${3:-"1 10 100 1000"}
kvmdir=/lib/modules/kvm
status=0

dens=
for n in $ns; do dens="$dens density=$n"; done

echo "BENCHINFO	kernel	$(uname -r)"
echo "BENCHINFO	memtotal_kib	$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"

# Emulated seconds since boot, to see where a run's time goes.
stamp() { echo "BENCHINFO	uptime_$1	$(cut -d' ' -f1 /proc/uptime)"; }

stamp lightvisor_start
# shellcheck disable=SC2086
lvbench -n "$iters" -l "$cycles" lightvisor exits lifecycle vmas=0 vmas=2000 $dens || status=1
stamp lightvisor_end

# lightvisor has no VM left: KVM may take VMX now.
if insmod $kvmdir/irqbypass.ko && insmod $kvmdir/kvm.ko &&
   insmod $kvmdir/kvm-intel.ko; then
	stamp kvm_start
	# shellcheck disable=SC2086
	lvbench -n "$iters" -l "$cycles" kvm exits lifecycle vmas=0 vmas=2000 $dens || status=1
	stamp kvm_end
else
	echo "bench: could not load KVM" >&2
	status=1
fi
rmmod kvm_intel 2>/dev/null
rmmod kvm 2>/dev/null
rmmod irqbypass 2>/dev/null
exit $status
