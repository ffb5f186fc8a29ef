# Every CPU is up and runs work pinned to it.
n=$(grep -c '^processor' /proc/cpuinfo)
echo "LVGUEST-CPUS $n"
c=0
while [ "$c" -lt "$n" ]; do
	taskset -c "$c" sh -c 'i=0; while [ $i -lt 2000 ]; do i=$((i + 1)); done' &&
		echo "LVGUEST-WORK-DONE cpu$c"
	c=$((c + 1))
done
