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
