# Every CPU is up and runs work pinned to it.
n=$(grep -c '^processor' /proc/cpuinfo)
echo "LVGUEST-CPUS $n"
c=0
while [ "$c" -lt "$n" ]; do
	taskset -c "$c" sh -c 'i=0; while [ $i -lt 2000 ]; do i=$((i + 1)); done' &&
		echo "LVGUEST-WORK-DONE cpu$c"
	c=$((c + 1))
done
# The kernel's clocks: its clocksource, how many messages marked one
# unstable, CPU 0's tick mode (0 periodic, 1 one-shot) and the jiffies
# counted during `sleep 2` against its clock (the TSC, if it kept it),
# from /proc/timer_list where the kernel has one.
if [ -r /proc/timer_list ]; then
	timer_list() { # -> "NOW_NS JIFFIES TICK_MODE"
		awk '/^now at/ { n = $3 } /^jiffies:/ && !j { j = $2 }
		     /^Tick Device: mode:/ { m = $4 }
		     /^Per CPU device: 0$/ { t = m }
		     END { print n, j, t }' /proc/timer_list
	}
	# shellcheck disable=SC2046 # its three words
	set -- $(timer_list)
	n0=$1 j0=$2
	sleep 2
	# shellcheck disable=SC2046 # its three words
	set -- $(timer_list)
	echo "LVGUEST-CLOCK $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" \
		"unstable $(dmesg | grep -c 'as unstable')" "tick-mode $3" \
		"jiffies $(($2 - j0)) in $((($1 - n0) / 1000000)) ms"
fi
