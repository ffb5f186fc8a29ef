#!/bin/sh
# lvd --pool 2 and lvrun --pool: three guests in a row from a pool of two
# all run to completion (the pool refills in the background), the pool is
# full again afterwards, a request of another shape is refused by name,
# and an absent, killed or duplicate lvd gives a clear error. Prints TAP.
# Time limits here only end a hung run; the checks are on what lvd, lvrun
# and the module's counters report.
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

stats=/sys/kernel/debug/lightvisor/stats
vms() { awk '$1 == "vms" { print $2 }' $stats; }
vcpus() { awk '$1 == "vcpus" { print $2 }' $stats; }

# Waits up to 120 s for a shell condition.
wait_for() {
	i=0
	while ! eval "$1" && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	eval "$1"
}

show() { sed "s/^/# $1: /" "$2" | head -${3:-10}; }

sock=/tmp/pool.sock
rm -f $sock
lvd --pool 2 --socket $sock 2>lvd.txt &
lvd=$!
wait_for '[ -S $sock ] && grep -q "pool full" lvd.txt'
result $? "lvd --pool 2 fills its pool"
[ "$(vms)" = 2 ] && [ "$(vcpus)" = 2 ]
result $? "two VMs with a vCPU each are prepared ($(vms) VMs, $(vcpus) vCPUs)"

for i in 1 2 3; do
	lvrun --pool $sock --stats --timeout 300 /guests/hello64.elf \
		>run$i.txt 2>err$i.txt
	st=$?
	grep -q "Hello from 64-bit long mode" run$i.txt &&
		grep -q "instantiation: took the VM" err$i.txt && [ $st = 0 ]
	result $? "lvrun --pool, guest $i of 3, runs to completion (exit $st)"
	[ $st = 0 ] || { show "run $i" run$i.txt; show "err $i" err$i.txt; }
done
# Figures only, not checked (make bench has them): one cold creation.
lvrun --stats /guests/hello64.elf >/dev/null 2>cold.txt
grep -h "instantiation" err1.txt err2.txt err3.txt cold.txt | sed 's/^/# /'

wait_for '[ "$(vms)" = 2 ]'
result $? "the pool is full again after serving three (VMs alive: $(vms))"
! grep -q "refused\|cannot" lvd.txt
result $? "lvd logged no refusal or failure"

lvrun --pool $sock --vcpus 2 /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st != 0 ] && grep -q "lvd refused: this pool's VMs have 1 vCPU(s), not 2" err.txt
result $? "--vcpus 2 from a pool of 1-vCPU VMs: refused by name (exit $st)"
show err err.txt 3
lvrun --pool $sock --irqchip /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st != 0 ] && grep -q "lvd's VMs have no in-kernel interrupt controllers, this guest needs them (lvd --irqchip)" err.txt
result $? "--irqchip from a pool without: refused by name (exit $st)"
show err err.txt 3
lvrun --pool $sock --hv kvm /guests/hello64.elf >out.txt 2>err.txt
[ $? != 0 ] && grep -q -- "--pool needs --hv lightvisor" err.txt
result $? "--pool with --hv kvm: refused"

lvd --pool 1 --socket $sock 2>lvd2.txt
st=$?
[ $st != 0 ] && grep -q "another lvd is serving it" lvd2.txt
result $? "a second lvd on the same socket: refused (exit $st)"
show lvd2 lvd2.txt 2

lvrun --pool /tmp/no-such.sock /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st != 0 ] && grep -q "no such socket (is lvd running?)" err.txt
result $? "lvrun --pool with no socket: clear error (exit $st)"
show err err.txt 2

kill -9 $lvd
wait $lvd 2>/dev/null
wait_for '[ "$(vms)" = 0 ]'
result $? "lvd killed: its prepared VMs are freed (VMs alive: $(vms), vCPUs: $(vcpus))"
lvrun --pool $sock /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st != 0 ] && grep -q "nobody listens there (lvd has stopped?)" err.txt
result $? "lvrun --pool after lvd was killed: clear error (exit $st)"
show err err.txt 2

# The killed lvd left its socket; a new one takes it over and serves.
lvd --pool 1 --socket $sock 2>lvd3.txt &
lvd=$!
wait_for 'grep -q "pool full" lvd3.txt'
lvrun --pool $sock /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 0 ] && grep -q "Hello from 64-bit long mode" out.txt
result $? "a new lvd replaces the stale socket and serves (exit $st)"
kill $lvd
wait $lvd 2>/dev/null
[ ! -e $sock ]
result $? "lvd stopped by SIGTERM removes its socket"
wait_for '[ "$(vms)" = 0 ]'
result $? "and frees its VMs (VMs alive: $(vms))"

echo "1..$n"
[ $failed = 0 ]
