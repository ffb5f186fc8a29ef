#!/bin/sh
# lvd and lvrun --pool: prepared lvrun processes. With a pool of two,
# three guests in a row run in three different prepared processes, with
# their output on the client's stdout and their status as the client's;
# each prepared process serves one client and is gone after it; the pool
# refills. A guest reads the client's stdin and a disk named relative to
# the client's directory. Signals to the client end the guest; a guest
# the prepared lvrun cannot run as asked is refused by name; a running
# guest outlives lvd. lvd --shells and lvrun --pool-vm (VM shells) still
# serve; each kind refuses the other's client by name. An absent, killed
# or duplicate lvd gives a clear error; a killed or stopped lvd's
# prepared processes and VMs are gone. Prints TAP. Time limits here only
# end a hung run; the checks are on what lvd, lvrun and the module's
# counters report.
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$0")/tap.sh"

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

# The prepared lvrun that ran a guest, from its --stats line in FILE.
served_by() { sed -n 's/.*instantiation: a prepared lvrun (pid \([0-9]*\)).*/\1/p' "$1"; }
# A process is gone once it is neither running nor a zombie. One read of its status: an exists-then-read pair races with the reaping
# of a zombie (its status file vanishes between the two).
gone() {
	local state

	state=$(sed -n 's/^State:[[:space:]]*//p' /proc/$1/status 2>/dev/null)
	[ -z "$state" ] || [ "${state%% *}" = Z ]
}
# Waits for process P to be gone; if it is not, shows where its threads are.
wait_gone() {
	wait_for "gone $1" && return 0
	for t in /proc/$1/task/*; do
		echo "# thread ${t##*/}: $(grep '^State' $t/status) in $(cat $t/wchan)"
		sed 's/^/#   /' $t/stack
	done
	dmesg | tail -20 | sed 's/^/# dmesg: /'
	return 1
}

# Waits for N VMs alive; if they do not come, shows what lvd and the
# lvrun processes are doing.
wait_vms() { # N LVD-LOG
	local pid

	wait_for "[ \"\$(vms)\" = $1 ]" && return 0
	echo "# VMs alive: $(vms), vCPUs: $(vcpus), want $1 VMs"
	for pid in $(pidof lvrun lvd); do
		echo "# $pid: $(grep '^State' /proc/$pid/status) in $(cat /proc/$pid/wchan 2>/dev/null): $(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)"
	done
	show lvd "$2" 40
	dmesg | tail -10 | sed 's/^/# dmesg: /'
	return 1
}

sock=/tmp/pool.sock
rm -f $sock
lvd --pool 2 --socket $sock 2>lvd.txt &
lvd=$!
wait_for '[ -S $sock ] && grep -q "pool full" lvd.txt'
result $? "lvd --pool 2 fills its pool"
show lvd lvd.txt 3
[ "$(vms)" = 2 ] && [ "$(vcpus)" = 2 ]
result $? "two prepared lvrun processes with a VM and a vCPU each ($(vms) VMs, $(vcpus) vCPUs)"
# A prepared lvrun has all of its own code and data in its page tables
# (warm.c): its instantiation takes no first-touch fault in them.
prepared=
for d in /proc/[0-9]*; do
	tr '\0' ' ' <$d/cmdline 2>/dev/null | grep -q -- '--pool-prepared' &&
		prepared=${d#/proc/} && break
done
resident=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { own = $NF ~ /\/lvrun$/ }
	own && $1 == "Size:" { size += $2 } own && $1 == "Rss:" { rss += $2 }
	END { if (size) print rss "K of " size "K" }' /proc/$prepared/smaps 2>/dev/null)
[ -n "$resident" ] && [ "${resident%%K of *}K" = "${resident#*K of }" ]
result $? "a prepared lvrun's own code and data are all resident (${resident:-none found})"

pids=
for k in 1 2 3; do
	lvrun --pool $sock --stats --timeout 300 /guests/hello64.elf \
		>run$k.txt 2>err$k.txt
	st=$?
	grep -q "Hello from 64-bit long mode" run$k.txt && [ $st = 0 ]
	result $? "lvrun --pool, guest $k of 3: its output on the client's stdout, status 0 (exit $st)"
	[ $st = 0 ] || { show "run $k" run$k.txt; show "err $k" err$k.txt; }
	p=$(served_by err$k.txt)
	[ -n "$p" ] && wait_gone $p
	result $? "guest $k ran in prepared lvrun ${p:-?}, which is gone after it"
	pids="$pids $p"
done
[ "$(echo $pids | tr ' ' '\n' | sort -u | wc -l)" = 3 ]
result $? "three clients, three different prepared processes:$pids"
# Figures only, not checked (make bench has them): one cold run.
lvrun --stats /guests/hello64.elf >/dev/null 2>cold.txt
grep -h "instantiation" err1.txt err2.txt err3.txt cold.txt | sed 's/^/# /'

wait_vms 2 lvd.txt
result $? "lvd refilled: two prepared again after three taken (VMs alive: $(vms))"
! grep -q "refused\|cannot\|ended before" lvd.txt
result $? "lvd logged no refusal or failure"

lvrun --pool $sock /guests/triple-fault.elf >out.txt 2>err.txt
st=$?
[ $st = 2 ]
result $? "a guest's status is the client's: triple fault gives 2 (exit $st)"

# Signals to the client end the guest, and the client dies of them too.
for sig in TERM INT; do
	lvrun --pool $sock --stats /guests/spin.elf >spin.txt 2>spin.err &
	c=$!
	wait_for 'grep -q "spinning forever" spin.txt'
	p=$(served_by spin.err)
	kill -$sig $c
	wait $c
	st=$?
	want=143
	[ $sig = INT ] && want=130
	[ -n "$p" ] && [ $st = $want ] && wait_gone $p
	result $? "SIG$sig to the client: it exits $st (want $want), its guest's lvrun ${p:-?} is gone"
	[ $st = $want ] || show spin spin.err 5
done
lvrun --pool $sock --stats /guests/spin.elf >spin.txt 2>spin.err &
c=$!
wait_for 'grep -q "spinning forever" spin.txt'
p=$(served_by spin.err)
kill -9 $c
wait $c 2>/dev/null
[ -n "$p" ] && wait_gone $p && grep -q "the client lvrun --pool is gone: ending the guest" spin.err
result $? "the client killed (SIGKILL): its guest's lvrun ${p:-?} ends it"

# Refused by name, never run with what the client did not ask for.
lvrun --pool $sock --vcpus 2 /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 1 ] && grep -q "lvd refused: this pool's lvrun processes have 1 vCPU(s), not 2 (lvd --vcpus)" err.txt
result $? "--vcpus 2 from a pool of 1 vCPU: refused by name (exit $st)"
show err err.txt 3
lvrun --pool $sock --irqchip /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 1 ] && grep -q "this pool's lvrun processes have no in-kernel interrupt controllers, this guest needs them (lvd --irqchip)" err.txt &&
	! grep -q "Hello" out.txt
result $? "--irqchip from a pool without: refused by name, nothing ran (exit $st)"
show err err.txt 3
lvrun --pool $sock --mem 32M /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 1 ] && grep -q "this guest wants 32M of memory, this pool's lvrun processes have 16M (lvd --mem 32M" err.txt
result $? "--mem 32M from a pool of 16M: refused by name (exit $st)"
show err err.txt 3
lvrun --pool $sock /guests/hello-real.bin >out.txt 2>err.txt
st=$?
[ $st = 1 ] && grep -q "this guest wants 2M of memory" err.txt
result $? "a boot sector (2M by default) from a pool of 16M: refused by name (exit $st)"
lvrun --pool $sock --thp /guests/hello64.elf >out.txt 2>err.txt
[ $? = 1 ] && grep -q -- "not with --hugepages, --thp or --no-thp" err.txt
result $? "--thp with --pool: refused"
lvrun --pool $sock --hv kvm /guests/hello64.elf >out.txt 2>err.txt
[ $? != 0 ] && grep -q -- "--pool needs --hv lightvisor" err.txt
result $? "--pool with --hv kvm: refused"
lvrun --pool-vm $sock /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 1 ] && grep -q "lvd refused: this lvd keeps prepared lvrun processes: ask with lvrun --pool" err.txt
result $? "lvrun --pool-vm to a pool of processes: refused by name (exit $st)"
wait_vms 2 lvd.txt
result $? "the refusing processes are gone and replaced (VMs alive: $(vms))"

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

# A guest running when lvd dies is its client's: it goes on.
lvrun --pool $sock --stats /guests/spin.elf >spin.txt 2>spin.err &
c=$!
wait_for 'grep -q "spinning forever" spin.txt'
p=$(served_by spin.err)
kill -9 $lvd
wait $lvd 2>/dev/null
wait_for '[ "$(vms)" = 1 ]'
result $? "lvd killed: its prepared processes and their VMs are gone, the running guest's stays (VMs alive: $(vms), vCPUs: $(vcpus))"
sleep 1
[ -n "$p" ] && kill -0 $c && ! gone $p
result $? "and the running guest (lvrun ${p:-?}) goes on without lvd"
kill $c
wait $c 2>/dev/null
wait_for '[ "$(vms)" = 0 ]'
lvrun --pool $sock /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 1 ] && grep -q "nobody listens there (lvd has stopped?)" err.txt
result $? "lvrun --pool after lvd was killed: clear error (exit $st)"
show err err.txt 2

# The killed lvd left its socket; a new one, with interrupt
# controllers, takes it over. virtio.elf reads the client's stdin and a
# disk named relative to the client's directory, and ends with status 1
# after all its checks, as it does without the pool.
lvd --pool 1 --irqchip --socket $sock 2>lvd3.txt &
lvd=$!
wait_for 'grep -q "pool full" lvd3.txt'
mkdir -p vdir
dd if=/dev/zero of=vdir/disk.img bs=512 count=128 2>/dev/null
printf 'lightvisor sector 3' | dd of=vdir/disk.img bs=512 seek=3 conv=notrunc 2>/dev/null
echo ping >vdir/ping
(cd vdir && lvrun --pool $sock --irqchip --timeout 300 --disk disk.img \
	--console virtio /guests/virtio.elf <ping >out 2>err)
st=$?
plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' vdir/out | head -n 1)
[ $st = 1 ] && [ -n "$plan" ] && ! grep -q "^not ok" vdir/out &&
	[ "$(grep -c '^ok' vdir/out)" = "$plan" ] && grep -q "receives lvrun's stdin" vdir/out
result $? "virtio.elf from an --irqchip pool: stdin, a relative --disk, all $plan checks pass, status 1 (exit $st)"
[ $st = 1 ] || { show out vdir/out 20; show err vdir/err 5; }
kill $lvd
wait $lvd 2>/dev/null
[ ! -e $sock ]
result $? "lvd stopped by SIGTERM removes its socket"
wait_for '[ "$(vms)" = 0 ]'
result $? "and its prepared processes end, with their VMs (VMs alive: $(vms))"

# VM shells: lvd --shells and lvrun --pool-vm.
lvd --shells --pool 1 --socket $sock 2>lvd4.txt &
lvd=$!
wait_for 'grep -q "pool full" lvd4.txt'
[ "$(vms)" = 1 ]
result $? "lvd --shells --pool 1 prepares one VM shell (VMs alive: $(vms))"
lvrun --pool-vm $sock --stats /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 0 ] && grep -q "Hello from 64-bit long mode" out.txt &&
	grep -q "instantiation: took the VM" err.txt
result $? "lvrun --pool-vm takes a VM shell and runs the guest (exit $st)"
grep -h "instantiation" err.txt | sed 's/^/# /'
lvrun --pool $sock /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 1 ] && grep -q "lvd refused: this lvd keeps VM shells (lvd --shells): take one with lvrun --pool-vm" err.txt
result $? "lvrun --pool to lvd --shells: refused by name (exit $st)"
lvrun --pool-vm $sock --vcpus 2 /guests/hello64.elf >out.txt 2>err.txt
st=$?
[ $st = 1 ] && grep -q "lvd refused: this pool's VMs have 1 vCPU(s), not 2" err.txt
result $? "--pool-vm --vcpus 2 from shells of 1 vCPU: refused by name (exit $st)"
kill $lvd
wait $lvd 2>/dev/null
wait_for '[ "$(vms)" = 0 ]'
result $? "lvd --shells stopped: its VMs are freed (VMs alive: $(vms))"

echo "1..$n"
[ $failed = 0 ]
