#!/bin/sh
# Run inside the test VM by `make demo` (scripts/demo). Extend freely.
set -e
echo "== kernel: $(uname -r), CPU: $(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "== VMX: $(grep -qw vmx /proc/cpuinfo && echo yes || echo no)"
echo "== module"
grep '^lightvisor ' /proc/modules
dmesg | grep 'lightvisor:' || true
ls -l /dev/lightvisor
echo "== lvinfo"
lvinfo
echo "== lvrun: a real-mode boot sector"
lvrun --stats /guests/hello-real.bin
echo "== lvrun: a 64-bit C guest in long mode"
lvrun --stats /guests/hello64.elf
echo "== lvrun: Linux (the guest kernel, BusyBox init) to a shell prompt"
# Commands go to the guest's serial port through lvrun's stdin once the
# guest's shell is up; the guest's init marks "init reached" (lvrun
# prints the time since it started).
rm -f /tmp/serial.in
mkfifo /tmp/serial.in
lvrun --mem 256M --vcpus 2 --initrd /work/initrd.cpio \
	--cmdline "console=ttyS0 quiet lvtest=shell" /work/bzImage \
	</tmp/serial.in >/tmp/linux.out 2>&1 &
pid=$!
exec 3>/tmp/serial.in
while ! grep -q '^LVGUEST-SHELL' /tmp/linux.out && kill -0 $pid 2>/dev/null; do
	sleep 1
done
for cmd in 'uname -a' 'grep -c ^processor /proc/cpuinfo' 'head -n 1 /proc/meminfo' \
	   'dmesg | grep -m 1 -i "hypervisor\|tsc:"' 'poweroff -f'; do
	echo "$cmd" >&3
	sleep 2
done
wait $pid || echo "lvrun exit status $? (6: the guest powered off)"
exec 3>&-
cat /tmp/linux.out
sed -n 's/^lvrun: guest mark 1: \([0-9]*\) ms.*/== Linux reached its init \1 ms after lvrun started (emulated time)/p' /tmp/linux.out
