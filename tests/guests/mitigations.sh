#!/bin/sh
# lightvisor's CPU-vulnerability mitigations follow the kernel's (TAP).
#
# usage: sh mitigations.sh on|off
#   on:  a boot with the kernel's mitigations (mitigations=auto). Bochs's
#        Haswell has L1TF, MDS and Spectre v2, so the L1D flush, VERW
#        before entry and the RSB fill after exit must all be on, and the
#        flush must run before the guests' entries.
#   off: a boot with mitigations=off: all of them off, no flush.
# Either way /sys/kernel/debug/lightvisor/mitigations must agree with the
# kernel's own state in /sys/devices/system/cpu/vulnerabilities.
mode=$1
mit=/sys/kernel/debug/lightvisor/mitigations
vuln=/sys/devices/system/cpu/vulnerabilities
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; failed=$((failed + 1)); }
check() { # CONDITION-STATUS DESCRIPTION
	if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi
}
line() { sed -n "s/^$1 //p" "$mit"; }
flushes() { sed -n 's/^l1d_flushes //p' /sys/kernel/debug/lightvisor/stats; }

case $mode in on|off) ;; *) echo "not ok 1 - usage: mitigations.sh on|off"; exit 1 ;; esac
if [ ! -r "$mit" ]; then
	echo "not ok 1 - $mit exists"
	exit 1
fi
sed 's/^/# lightvisor: /' "$mit"
for f in l1tf mds spectre_v2 vmscape; do
	echo "# kernel $f: $(cat "$vuln/$f" 2>/dev/null)"
done

# The kernel's state is what the boot asked for; otherwise the rest
# would compare nothing.
if [ "$mode" = on ]; then
	grep -q '^Mitigation: Retpolines' "$vuln/spectre_v2"
	check $? "kernel: Spectre v2 mitigated with retpolines"
	grep -qE '^(Mitigation: Clear CPU buffers|Vulnerable: Clear CPU buffers attempted)' "$vuln/mds"
	check $? "kernel: MDS, CPU buffers cleared"
	grep -q '^Mitigation' "$vuln/l1tf"
	check $? "kernel: L1TF mitigated"
else
	grep -q '^Vulnerable' "$vuln/spectre_v2"
	check $? "kernel: Spectre v2 not mitigated (mitigations=off)"
	grep -q '^Vulnerable' "$vuln/mds"
	check $? "kernel: MDS not mitigated (mitigations=off)"
fi

# lightvisor against the kernel, one mitigation at a time.
if grep -qE '^Mitigation: (Retpolines|IBRS)' "$vuln/spectre_v2"; then
	want=full
elif grep -q '^Mitigation: Enhanced' "$vuln/spectre_v2"; then
	want='(full|lite|off)'	# the eIBRS forms: the kernel chooses
else
	want=off
fi
line rsb_fill | grep -qxE "$want"
check $? "RSB fill after exit: $(line rsb_fill), kernel: $(cut -d';' -f1 "$vuln/spectre_v2")"

case $(cat "$vuln/mds") in
'Mitigation: Clear CPU buffers'*|'Vulnerable: Clear CPU buffers attempted'*) want=verw ;;
*) want=off ;;
esac
[ "$(line clear_cpu_buffers)" = "$want" ]
check $? "VERW before entry: $(line clear_cpu_buffers), want $want"

# L1TF's flush follows the kernel's l1tf_mitigation, which sysfs does not
# show (PTE inversion is on either way): off for mitigations=off or
# l1tf=off, else on where the CPU has the bug.
want=software
grep -q '^Not affected' "$vuln/l1tf" && want=off
last=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^mitigations=//p' | tail -n 1)
[ "$last" = off ] && want=off
grep -qw 'l1tf=off' /proc/cmdline && want=off
[ "$want" = software ] && grep -qw flush_l1d /proc/cpuinfo && want=msr
[ "$(line l1d_flush)" = "$want" ]
check $? "L1D flush before entry: $(line l1d_flush), want $want"

# VMSCAPE: the IBPB before the VMM's userspace runs again. Bochs's CPUs
# have no IBPB, so the kernel reports it unmitigated here; where it is
# on, lightvisor must ask for it after every exit.
want=off
grep -q '^Mitigation: IBPB before exit to userspace' "$vuln/vmscape" 2>/dev/null &&
	want=on
[ "$(line ibpb_exit_to_user)" = "$want" ]
check $? "IBPB before exit to userspace (VMSCAPE): $(line ibpb_exit_to_user), kernel: $(cat "$vuln/vmscape" 2>/dev/null || echo 'no vmscape file')"

want=off
grep -qw ibpb /proc/cpuinfo && want=on
[ "$(line ibpb_between_vms)" = "$want" ]
check $? "IBPB between VMs: $(line ibpb_between_vms), want $want (the CPU's ibpb flag)"

# Guests run with the mitigations in place, and the flush counts entries.
before=$(flushes)
for g in "hello64.elf 0" "mmio.elf 1" "interrupt.elf 1 --timeout 20 --irq-after-ms 100:0x40"; do
	# shellcheck disable=SC2086 # the table's fields, split on purpose
	set -- $g
	img=$1 want=$2
	shift 2
	out=$(lvrun "$@" "/guests/$img" 2>&1)
	got=$?
	if [ "$got" = "$want" ] && ! echo "$out" | grep -q '^not ok'; then
		ok "$img exits with $want"
	else
		nok "$img: expected status $want, got $got"
		echo "$out" | sed 's/^/# /' | tail -n 15
	fi
done
after=$(flushes)
if [ "$(line l1d_flush)" = off ]; then
	[ "$after" = "$before" ]
	check $? "no L1D flush without the mitigation ($before -> $after)"
else
	[ "$after" -gt "$before" ]
	check $? "the L1D flush ran before the guests' entries ($before -> $after)"
fi
[ "$failed" = 0 ]
