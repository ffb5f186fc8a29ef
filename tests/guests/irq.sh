#!/bin/sh
# In-kernel interrupt controller guests under lvrun --irqchip; prints TAP.
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$0")/tap.sh"

# Exits of a reason since the module was loaded (debugfs), and a capability.
exits() { # REASON
	awk -v r="$1" '$2 == r { n = $3 } END { print n + 0 }' \
		/sys/kernel/debug/lightvisor/exits
}
# An event counter of /sys/kernel/debug/lightvisor/stats.
stat() { # NAME
	awk -v k="$1" '$1 == k { n = $2 } END { print n + 0 }' \
		/sys/kernel/debug/lightvisor/stats
}
cap() { # NAME
	lvinfo | awk -v c="$1" '$1 == "cap" && $2 == c { print $3 }'
}

# apic.elf moves CR8 2 x 2000 times (CR8_LOOPS in guests/apic.c) and
# sends itself 1000 x2APIC self-IPIs, each ended by an EOI WRMSR, and
# 1000 xAPIC self-IPIs through the ICR, each ended by an EOI write to the
# page (SELF_IPI_LOOPS). With the TPR shadow the MOVs do not exit, with
# virtual-interrupt delivery the WRMSRs do not, and with the APIC-access
# page too the writes to the page do not; without, each one does. The
# exits on the page are those emulated (MMIO_EMULATED: EPT violations
# and APIC-access exits alike), and the EOI writes that VMX steps over
# without the emulator (fast_eois: an EPT violation at the EOI register,
# on a CPU that is not itself virtual, as KVM's fast paths).
run_apic() { # WHAT
	c0=$(exits CR_ACCESS) w0=$(exits MSR_WRITE) e0=$(exits EOI_INDUCED)
	m0=$(exits MMIO_EMULATED) f0=$(stat fast_eois)
	lvrun --irqchip --timeout 60 /guests/apic.elf >apic.out 2>&1
	st=$?
	c1=$(exits CR_ACCESS) w1=$(exits MSR_WRITE) e1=$(exits EOI_INDUCED)
	m1=$(exits MMIO_EMULATED) f1=$(stat fast_eois)
	sed 's/^/# /' apic.out
	[ "$st" = 1 ] && ! grep -q '^not ok' apic.out
	result $? "apic.elf ($1): xAPIC page, CR8 and the TPR threshold, x2APIC switch and self-IPIs, PIT against the TSC, level-triggered pins"
	cr=$((c1 - c0)) wr=$((w1 - w0)) eoi=$((e1 - e0)) page=$((m1 - m0))
	fast=$((f1 - f0))
	echo "# $1: $cr CR-access, $wr MSR-write, $eoi EOI-induced, $page emulated MMIO exits, $fast fast EOIs during apic.elf"
}

# The 1000 EOI writes to the page: each stepped over without the
# emulator where VMX can (no "hypervisor" CPU flag), else emulated.
fast_eoi_expected() {
	dmesg | grep -q 'lightvisor: loaded, .*, backend vmx$' &&
		! grep -qw hypervisor /proc/cpuinfo
}

# Bochs 2.7 delivers virtual interrupts with IF clear: the module then
# makes x2APIC SELF IPIs exit, and EOIs while another vector waits
# (module parameter vid_erratum).
erratum_on() {
	dmesg | grep -q 'lightvisor: vmx: APIC virtualization: x2APIC self-IPIs and EOIs .*(vid_erratum=-1)'
}

shadow=$(cap TPR_SHADOW) vid=$(cap VIRT_INTR_DELIVERY) access=$(cap APIC_ACCESS)
dmesg | grep 'lightvisor: vmx: APIC virtualization' | sed 's/^/# /'
run_apic "capabilities: TPR shadow $shadow, virtual-interrupt delivery $vid, APIC-access page $access"
[ "$access" = 0 ] && [ $((page + fast)) -ge 2000 ]
result $? "no APIC-access page by default: every xAPIC ICR and EOI write exited ($page emulated MMIO exits, $fast fast EOIs)"
if fast_eoi_expected; then
	[ "$fast" -ge 1000 ] && [ "$page" -lt 2000 ]
else
	[ "$fast" = 0 ]
fi
result $? "xAPIC EOI writes taken by address where the exit gives the length ($fast fast EOIs, $page emulated)"
if [ "$vid" = 1 ] && erratum_on; then
	[ "$wr" -ge 1000 ] && [ "$wr" -lt 2000 ] && [ "$eoi" -lt 1000 ]
	result $? "virtual-interrupt delivery with vid_erratum: the 1000 SELF IPI WRMSRs exited ($wr MSR-write exits), their EOIs, with nothing else waiting, did not ($eoi EOI-induced exits)"
	[ "$eoi" -ge 20 ]
	result $? "virtual-interrupt delivery: the level-triggered EOIs exited to the I/O APIC ($eoi EOI-induced exits)"
elif [ "$vid" = 1 ]; then
	[ "$wr" -lt 1000 ]
	result $? "virtual-interrupt delivery: the 2000 SELF IPI and EOI WRMSRs did not exit ($wr MSR-write exits)"
	[ "$eoi" -ge 20 ]
	result $? "virtual-interrupt delivery: the level-triggered EOIs exited to the I/O APIC ($eoi EOI-induced exits)"
else
	[ "$wr" -ge 2000 ]
	result $? "no virtual-interrupt delivery: every SELF IPI and EOI WRMSR exited ($wr MSR-write exits)"
fi
if [ "$shadow" = 1 ]; then
	[ "$cr" -lt 2000 ]
	result $? "TPR shadow: the 4000 MOVs to and from CR8 did not exit ($cr CR-access exits)"
else
	[ "$cr" -ge 4000 ]
	result $? "no TPR shadow: every MOV to and from CR8 exited ($cr CR-access exits)"
fi
# The SVM backend has no TPR shadow (and says nothing about it).
dmesg | grep -q 'lightvisor: vmx: APIC virtualization: TPR shadow used' &&
	[ "$shadow" = 1 ] ||
	{ dmesg | grep -q 'lightvisor: vmx: APIC virtualization: TPR shadow absent' &&
	  [ "$shadow" = 0 ]; } ||
	{ dmesg | grep -q 'lightvisor: loaded, .*, backend svm$' &&
	  [ "$shadow" = 0 ]; }
result $? "LV_CAP_TPR_SHADOW ($shadow) says what the load message says"

# The CMOS/RTC: the guest prints what its clock read as rtc-epoch=N; it
# must lie between the host's clock before and after the run (lvrun
# starts the RTC from it), give or take a second of rounding.
t0=$(date -u +%s)
lvrun --irqchip --timeout 60 /guests/rtc.elf >rtc.out 2>&1
st=$?
t1=$(date -u +%s)
sed 's/^/# /' rtc.out
[ "$st" = 1 ] && ! grep -q '^not ok' rtc.out && grep -q '^ok 22 ' rtc.out
result $? "rtc.elf: BCD/binary/12 h time, memory bytes, SET, 256 and 1024 Hz periodic and update interrupts on line 8"
e=$(tr -d '\r' <rtc.out | sed -n 's/^rtc-epoch=\([0-9]*\)$/\1/p')
[ -n "$e" ] && [ "$e" -ge $((t0 - 1)) ] && [ "$e" -le $((t1 + 1)) ]
result $? "rtc.elf: the RTC read the host's UTC time (within the run, +-1 s)"
echo "# host clock $t0..$t1, guest RTC $e"

# A guest flooding IPIs, on a 50 us timer, never EOI-ing one vector: while
# it runs, another VM still runs to completion and lvrun can stop it.
lvrun --irqchip --timeout 8 /guests/apic-flood.elf >flood.out 2>&1 &
flood=$!
sleep 1
lvrun /guests/hello64.elf >hello.out 2>&1
result $? "a second VM runs to its end beside the flooding guest"
wait $flood
st=$?
sed 's/^/# /' flood.out | tail -n 3
[ "$st" = 124 ]
result $? "the flooding guest was stopped by lvrun's timeout (status 124)"

# The fallbacks on a CPU that has both: apicv=0 (TPR shadow alone), then
# tpr_shadow=0 (neither: virtual-interrupt delivery needs the shadow).
rmmod lightvisor && insmod /lib/modules/lightvisor.ko apicv=0
result $? "lightvisor reloaded with apicv=0"
[ "$(cap VIRT_INTR_DELIVERY)" = 0 ] && [ "$(cap APIC_ACCESS)" = 0 ] &&
	[ "$(cap TPR_SHADOW)" = "$shadow" ]
result $? "apicv=0: LV_CAP_VIRT_INTR_DELIVERY and LV_CAP_APIC_ACCESS read 0, LV_CAP_TPR_SHADOW as before"
run_apic "apicv=0"
[ "$wr" -ge 2000 ] && [ "$eoi" = 0 ] && [ $((page + fast)) -ge 2000 ]
result $? "apicv=0: every SELF IPI and EOI WRMSR exited ($wr MSR-write exits, $eoi EOI-induced), every xAPIC ICR and EOI write too ($page emulated, $fast fast EOIs)"
abi_irqchip >abi.out 2>&1
st=$?
grep '^not ok' abi.out | sed 's/^/# /'
echo "# apicv=0: abi_irqchip: $(grep -c '^ok' abi.out) ok, $(grep -c '^not ok' abi.out) not ok"
[ "$st" = 0 ] && grep -q '^ok .* TPR holds a lower class' abi.out &&
	! grep -q '^not ok' abi.out
result $? "apicv=0: abi_irqchip passes (TPR/PPR masking, EOI order, level EOIs, TPR from userspace)"

rmmod lightvisor && insmod /lib/modules/lightvisor.ko tpr_shadow=0
result $? "lightvisor reloaded with tpr_shadow=0"
[ "$(cap TPR_SHADOW)" = 0 ] && [ "$(cap VIRT_INTR_DELIVERY)" = 0 ]
result $? "tpr_shadow=0: LV_CAP_TPR_SHADOW and LV_CAP_VIRT_INTR_DELIVERY read 0"
run_apic "tpr_shadow=0"
[ "$cr" -ge 4000 ] && [ "$wr" -ge 2000 ]
result $? "tpr_shadow=0: every MOV to and from CR8 exited ($cr CR-access exits), every SELF IPI and EOI WRMSR too ($wr)"
# The ABI test's priorities (TPR/PPR masking, EOI order, the TPR set
# from userspace) on the fallback too.
abi_irqchip >abi.out 2>&1
st=$?
grep '^not ok' abi.out | sed 's/^/# /'
echo "# tpr_shadow=0: abi_irqchip: $(grep -c '^ok' abi.out) ok, $(grep -c '^not ok' abi.out) not ok"
[ "$st" = 0 ] && grep -q '^ok .* TPR holds a lower class' abi.out &&
	! grep -q '^not ok' abi.out
result $? "tpr_shadow=0: abi_irqchip passes (TPR/PPR masking, EOI order, TPR from userspace)"
# The APIC-access page, off by default (module parameter apic_access).
rmmod lightvisor && insmod /lib/modules/lightvisor.ko apic_access=1
result $? "lightvisor reloaded with apic_access=1"
access=$(cap APIC_ACCESS)
run_apic "apic_access=1, APIC-access page $access"
if [ "$access" = 1 ]; then
	[ "$page" -lt 1000 ]
	result $? "apic_access=1: the 2000 xAPIC ICR and EOI writes did not exit ($page emulated MMIO exits)"
else
	[ $((page + fast)) -ge 2000 ]
	result $? "apic_access=1 without the CPU's support, or with vid_erratum: every xAPIC ICR and EOI write exited ($page emulated, $fast fast EOIs)"
fi

# The workaround turned off where the CPU needs it, with the APIC-access
# page: apic.elf must see an interrupt taken with IF clear after an EOI
# made in its handler (this shows that it catches the erratum), and
# nothing else may fail. The page's writes still do not exit.
if [ "$vid" = 1 ] && erratum_on; then
	rmmod lightvisor &&
		insmod /lib/modules/lightvisor.ko vid_erratum=0 apic_access=1
	result $? "lightvisor reloaded with vid_erratum=0 apic_access=1"
	m0=$(exits MMIO_EMULATED)
	lvrun --irqchip --timeout 60 /guests/apic.elf >apic.out 2>&1
	page=$(($(exits MMIO_EMULATED) - m0))
	grep '^not ok' apic.out | sed 's/^/# /'
	grep -q '^not ok .* x2APIC: none taken with IF clear' apic.out &&
		! grep '^not ok' apic.out | grep -qv 'none taken with IF clear'
	result $? "vid_erratum=0 on this CPU: apic.elf sees an interrupt taken with IF clear after an EOI, and passes all else"
	[ "$(cap APIC_ACCESS)" = 1 ] && [ "$page" -lt 1000 ]
	result $? "vid_erratum=0 apic_access=1: the APIC-access page is used ($page emulated MMIO exits)"
fi
rmmod lightvisor && insmod /lib/modules/lightvisor.ko
result $? "lightvisor reloaded with its defaults"

echo "1..$n"
[ "$failed" = 0 ]
