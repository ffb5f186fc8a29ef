#!/bin/sh
# Guest memory under lvrun, in the emulated machine: every page of a large
# guest touched and checksummed with 4 KiB host pages, transparent huge
# pages and hugetlbfs pages (and, from the guest's own timing, whether EPT
# faults came per 4 KiB or per 2 MiB), multi-GiB guests, MMIO.
# Prints TAP.
n=0 failed=0

result() { # OK NAME [DIAG]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "$3" ] && echo "$3" | sed 's/^/# /' | tail -n 20
		failed=$((failed + 1))
	fi
}

field() { # NAME LINE
	echo "$2" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}

# touch NAME MAXSLOW_RULE LVRUN-OPTIONS...: MAXSLOW_RULE is 4k or 2m
touch_test() {
	name=$1 rule=$2
	shift 2
	out=$(lvrun "$@" /guests/memtouch.elf 2>&1)
	st=$?
	echo "$out" | grep '^# ' | grep -v '^# memtouch'
	! echo "$out" | grep -q '^not ok' && echo "$out" | grep -q '^ok 3 ' &&
		[ "$st" = 1 ]
	result $? "memtouch $name: lvrun $* (every page written and read back)" "$out"
	line=$(echo "$out" | grep '^# memtouch:')
	echo "$line"
	pages=$(field pages "$line") slow=$(field slow "$line")
	if [ -z "$pages" ] || [ -z "$slow" ]; then
		result 1 "memtouch $name: fault counts reported" "$out"
		return
	fi
	if [ "$rule" = 4k ]; then
		# 4 KiB EPT pages: (nearly) every first touch faults.
		[ "$slow" -ge $((pages * 9 / 10)) ]
		result $? "memtouch $name: 4 KiB EPT leaves ($slow of $pages first touches left the guest)"
	else
		# 2 MiB EPT pages: one fault per 2 MiB, plus a few host interrupts.
		[ "$slow" -le $((pages / 512 + 32)) ]
		result $? "memtouch $name: 2 MiB EPT leaves ($slow of $pages first touches left the guest)"
	fi
}

# The test kernel has no madvise() (no CONFIG_ADVISE_SYSCALLS): lvrun --thp
# then relies on the THP policy "always", --no-thp on PR_SET_THP_DISABLE.
thp=/sys/kernel/mm/transparent_hugepage/enabled
policy=$(sed 's/.*\[\(.*\)\].*/\1/' $thp 2>/dev/null)
echo "# THP policy: ${policy:-none}"
[ -n "$policy" ] && echo always >$thp
touch_test 4k 4k --mem 256M --no-thp
touch_test thp 2m --mem 256M --thp

# hugetlbfs: reserve, run, give back.
echo 72 >/proc/sys/vm/nr_hugepages
free=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
echo "# HugePages_Free: $free"
if [ "${free:-0}" -ge 66 ]; then
	touch_test hugetlb 2m --mem 128M --hugepages
else
	n=$((n + 1))
	echo "ok $n - memtouch hugetlb # SKIP only ${free:-0} huge pages could be reserved"
fi
echo 0 >/proc/sys/vm/nr_hugepages

# Without reserved huge pages, --hugepages fails with a clear message.
out=$(lvrun --mem 16M --hugepages /guests/hello64.elf 2>&1)
st=$?
[ "$st" = 1 ] && echo "$out" | grep -q nr_hugepages
result $? "--hugepages without reserved pages: status 1 and a hint ($st)" "$out"

# Multi-GiB guests (sparse: host memory is allocated on touch only).
for opt in "" "--thp"; do
	out=$(lvrun --mem 3G $opt /guests/hello64.elf 2>&1)
	result $? "hello64 with --mem 3G $opt" "$out"
	out=$(lvrun --mem 3G $opt /guests/mmio.elf 2>&1)
	st=$?
	[ "$st" = 1 ] && ! echo "$out" | grep -q '^not ok' &&
		echo "$out" | grep -q '^ok 8 '
	result $? "mmio (each size) with --mem 3G $opt" "$out"
done
out=$(lvrun --mem 4G /guests/hello64.elf 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "at most\|between"
result $? "--mem 4G is refused (RAM would overlap the MMIO hole)" "$out"

[ -n "$policy" ] && echo "$policy" >$thp
echo "1..$n"
[ "$failed" = 0 ]
