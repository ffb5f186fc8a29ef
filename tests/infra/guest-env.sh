#!/bin/sh
# Guest-side checks of the test environment, printing TAP.
n=0
fails=0
t() { # NAME COMMAND...: one TAP test case
	name=$1
	shift
	n=$((n + 1))
	if "$@" >/tmp/t.out 2>&1; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' /tmp/t.out
		fails=$((fails + 1))
	fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

echo "TAP version 13"
t "lightvisor.ko is loaded" grep -q '^lightvisor ' /proc/modules
t "/dev/lightvisor exists" test -c /dev/lightvisor
t "lvinfo answers API version 1" sh -c 'lvinfo | grep -qx "api-version: 1 (header: 1)"'
t "lvinfo lists every capability up to IOEVENTFD (its per-VM limit, 256)" sh -c \
	'lvinfo | grep -qE "^cap IRQFD +1$" && lvinfo | grep -qE "^cap IOEVENTFD +256$"'
t "debugfs is mounted" grep -q ' /sys/kernel/debug debugfs ' /proc/mounts
t "lightvisor.ko unloads and reloads" sh -c \
	'rmmod lightvisor && insmod /lib/modules/lightvisor.ko && test -c /dev/lightvisor'
if grep -qw vmx /proc/cpuinfo; then
	# KVM turns VMX on at load: unload it again for lightvisor.
	t "KVM loads and unloads" sh -c 'insmod /lib/modules/kvm/irqbypass.ko &&
		insmod /lib/modules/kvm/kvm.ko && insmod /lib/modules/kvm/kvm-intel.ko &&
		test -c /dev/kvm && rmmod kvm_intel kvm irqbypass'
elif grep -qw svm /proc/cpuinfo; then
	t "KVM (AMD) loads and unloads" sh -c 'insmod /lib/modules/kvm/irqbypass.ko &&
		insmod /lib/modules/kvm/kvm.ko && insmod /lib/modules/kvm/kvm-amd.ko &&
		test -c /dev/kvm && rmmod kvm_amd kvm irqbypass'
else
	skip "KVM loads and unloads" "no vmx or svm on this CPU"
fi
echo "1..$n"
[ "$fails" = 0 ]
