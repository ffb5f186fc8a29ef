#!/bin/sh
# Last step of a boot of the KASAN + kmemleak kernel (TAP): lightvisor.ko
# must unload, which frees whatever it still holds, and a kmemleak scan
# must then find no unreferenced object allocated since init started
# (initramfs/init scans and clears the kernel's own boot-time suspects).
km=/sys/kernel/debug/kmemleak
st=0
if grep -q '^lightvisor ' /proc/modules; then
	if rmmod lightvisor; then
		echo "ok 1 - lightvisor.ko unloads"
	else
		echo "not ok 1 - lightvisor.ko unloads"
		st=1
	fi
fi
if [ ! -w "$km" ]; then
	echo "not ok 2 - kmemleak scan # no $km: not a kmemleak kernel"
	exit 1
fi
# kmemleak reports an object only once it is older than 5 s and a scan
# found it unreferenced and unchanged since the previous scan.
sleep 6
echo scan >"$km"
echo scan >"$km"
leaks=$(cat "$km")
if [ -n "$leaks" ]; then
	echo "not ok 2 - kmemleak scan: $(echo "$leaks" | grep -c '^unreferenced object') suspected leak(s)"
	echo "$leaks" | sed 's/^/# /' | head -n 80
	st=1
else
	echo "ok 2 - kmemleak scan: no suspected leaks"
fi
exit $st
