#!/bin/sh
# A VM with an assigned PCI device (QEMU's edu) cannot be forked, saved
# or migrated: its state lives in the device. lvctl's fork and save get a
# clear error, nothing is written, no child starts, and the guest runs
# on. Needs a CPU with VMX or SVM and an IOMMU in one machine (QEMU TCG
# with SVM, svm-fork-assigned.suite). Prints TAP.
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$0")/tap.sh"

bdf=""
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] &&
	   [ "$(cat "$d/device")" = 0x11e8 ]; then
		bdf=${d##*/}
	fi
done
if [ -z "$bdf" ]; then
	echo "not ok 1 - QEMU's edu device (1234:11e8) is there"
	echo "1..1"
	exit 1
fi

# The console's "count N" lines so far.
counts() { tr -d '\r' <out.txt | grep -c '^count [0-9]* tsc [0-9]*$'; }
wait_counts() { # N: up to 60 s for N count lines
	i=0
	while [ "$(counts)" -lt "$1" ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(counts)" -ge "$1" ]
}
ctl() {
	ans=$(lvctl "$@")
	rc=$?
	echo "# lvctl $*: $ans (exit $rc)"
}

sock=$PWD/lv.sock
lvrun --assign "$bdf" --control "$sock" --timeout 300 /guests/counter.elf \
	>out.txt 2>err.txt &
pid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
wait_counts 3
result $? "counter.elf runs with edu ($bdf) assigned"

ctl "$sock" fork 2 "$PWD/fork.snap"
[ "$rc" = 1 ] && echo "$ans" | grep -q '^error code=EOPNOTSUPP ' &&
	echo "$ans" | grep -q 'assigned PCI device'
result $? "fork: error code=EOPNOTSUPP naming the assigned device"
[ ! -e fork.snap ]
result $? "fork: no snapshot written"
nr_lvrun() { cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^lvrun$'; }
[ "$(nr_lvrun)" = 1 ]
result $? "fork: no child started ($(nr_lvrun) lvrun process)"

ctl "$sock" save "$PWD/save.snap"
[ "$rc" = 1 ] && echo "$ans" | grep -q '^error code=EOPNOTSUPP ' &&
	echo "$ans" | grep -q 'assigned PCI device'
result $? "save: error code=EOPNOTSUPP naming the assigned device"
[ ! -e save.snap ]
result $? "save: no snapshot written"

ctl "$sock" status
before=$(counts)
wait_counts $((before + 2)) && echo "$ans" | grep -q '^ok state=running '
result $? "the guest runs on after the refusals"

kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ $failed = 0 ] || sed 's/^/# lvrun: /' err.txt | tail -n 20
echo "1..$n"
[ $failed = 0 ]
