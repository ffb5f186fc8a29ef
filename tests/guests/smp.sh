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

lvrun /guests/hello64.elf >hello.out 2>&1
result $? "guests still run afterwards"
echo "1..$n"
