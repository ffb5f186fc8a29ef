#!/bin/sh
# Runs on a machine with two CPUs; prints TAP.
n=0
result() { # OK NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

[ "$(grep -c ^processor /proc/cpuinfo)" -ge 2 ]
result $? "the machine has two CPUs"

abi_multi >multi.out 2>&1
st=$?
sed 's/^/# /' multi.out
result $st "abi_multi: two VMs and two vCPUs of one VM at once"

lvrun --vcpus 2 /guests/smp.elf >smp.out 2>&1
st=$?
sed 's/^/# /' smp.out
[ "$st" = 1 ] && ! grep -q '^not ok' smp.out
result $? "smp.elf: two vCPUs of one guest"

# Move a running vCPU thread between the CPUs many times: each move makes
# the VMCS be cleared on one CPU and loaded on the other.
lvrun --timeout 6 /guests/spin.elf >spin.out 2>&1 &
pid=$!
sleep 1
moves=0
while kill -0 $pid 2>/dev/null && [ $moves -lt 40 ]; do
	for t in /proc/$pid/task/*; do
		taskset -p $((moves % 2 + 1)) "${t##*/}" >/dev/null 2>&1
	done
	moves=$((moves + 1))
	sleep 0.1
done
wait $pid
st=$?
echo "# $moves migrations; lvrun status $st"
[ "$st" = 124 ] && [ $moves -ge 20 ]
result $? "a spinning guest survives its vCPU thread moving between CPUs"

# CPU hotplug while a guest runs: the CPU going away leaves VMX operation
# (after its VMCSs are cleared), the one coming back joins it again.
cpu1=/sys/devices/system/cpu/cpu1/online
lvrun --timeout 8 /guests/spin.elf >spin2.out 2>&1 &
pid=$!
sleep 1
ok=0
for i in 1 2 3; do
	echo 0 >$cpu1 && sleep 0.5 && echo 1 >$cpu1 && sleep 0.5 || ok=1
done
wait $pid
st=$?
echo "# hotplug cycles done (status $ok), lvrun status $st"
[ "$ok" = 0 ] && [ "$st" = 124 ]
result $? "a spinning guest survives CPU 1 going offline and online 3 times"

lvrun --vcpus 2 /guests/smp.elf >smp2.out 2>&1
[ $? = 1 ]
result $? "both CPUs run guests again after hotplug"

# CPU offline while vCPU threads keep moving: the CPU going away walks its
# list of loaded VMCSs while a vCPU waking up elsewhere clears its VMCS
# there by IPI (the walk runs with interrupts off, so the two never meet).
lvrun --timeout 10 --vcpus 2 /guests/spin.elf >spin3.out 2>&1 &
pid=$!
sleep 1
(
	m=0
	while kill -0 $pid 2>/dev/null; do
		for t in /proc/$pid/task/*; do
			taskset -p $((m % 2 + 1)) "${t##*/}" >/dev/null 2>&1
		done
		m=$((m + 1))
	done
) &
mover=$!
ok=0
for i in 1 2 3 4 5; do
	echo 0 >$cpu1 && sleep 0.3 && echo 1 >$cpu1 && sleep 0.3 || ok=1
done
wait $pid
st=$?
wait $mover
echo "# offline/online during migrations (status $ok), lvrun status $st"
[ "$ok" = 0 ] && [ "$st" = 124 ]
result $? "two spinning vCPUs survive CPU 1 going offline while their threads move"

# Module unload: refused while a VM exists, clean once it is gone.
lvrun --timeout 3 /guests/spin.elf >/dev/null 2>&1 &
pid=$!
sleep 1
! rmmod lightvisor 2>/dev/null
result $? "rmmod lightvisor is refused while a guest runs"
wait $pid
rmmod lightvisor
result $? "rmmod lightvisor succeeds once the VM is gone"
insmod /lib/modules/lightvisor.ko && lvrun /guests/hello64.elf >hello.out 2>&1
result $? "reloaded module runs guests"
echo "1..$n"
