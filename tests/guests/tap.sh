# shellcheck shell=sh
# TAP output for the test scripts here, sourced by them (not run): a
# suite copies it into /work beside its script (FILES in
# tests/suites/*.suite), so a script sources it from its own directory,
# which also serves a run by hand from the tree:
#
#	. "$(dirname "$0")/tap.sh"
#
# result STATUS NAME prints test n+1 as "ok" if STATUS is 0, else as
# "not ok" and counts it in $failed. The script ends with
#	echo "1..$n"
#	[ "$failed" = 0 ]
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
