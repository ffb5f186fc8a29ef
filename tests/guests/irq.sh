#!/bin/sh
# In-kernel interrupt controller guests under lvrun --irqchip; prints TAP.
n=0 failed=0
result() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

lvrun --irqchip --timeout 60 /guests/apic.elf >apic.out 2>&1
st=$?
sed 's/^/# /' apic.out
[ "$st" = 1 ] && ! grep -q '^not ok' apic.out
result $? "apic.elf: xAPIC page, CR8, x2APIC switch, PIT against the TSC"

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

echo "1..$n"
[ "$failed" = 0 ]
