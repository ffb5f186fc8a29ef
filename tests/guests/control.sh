#!/bin/sh
# lvrun --control and lvctl against counter.elf (vCPU 0 prints "count N
# tsc T" every 2M TSC ticks, vCPU 1 spins with MMIO writes); prints TAP.
# Time limits here are only there to end a hung run; the checks are on
# what the guest and lvrun report.
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$0")/tap.sh"

# The complete "count" lines of console FILE so far, without CRs.
counts() {
	tr -d '\r' <"$1" >snap.txt
	[ -z "$(tail -c 1 snap.txt)" ] || sed -i '$d' snap.txt
	grep '^count [0-9]* tsc [0-9]*$' snap.txt
}

nr_counts() {
	counts "$1" | wc -l
}

last_count() {
	counts "$1" | tail -n 1 | cut -d' ' -f2
}

# Waits up to 120 s (of this machine's time) for FILE to hold N more
# complete count lines than it had.
wait_counts() { # FILE N
	want=$(($(nr_counts "$1") + $2)) i=0
	while [ "$(nr_counts "$1")" -lt "$want" ] && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(nr_counts "$1")" -ge "$want" ]
}

wait_socket() { # PATH
	i=0
	while [ ! -S "$1" ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# Waits up to 60 s for every lvrun but the first guest's to be gone.
only_the_first_lvrun() {
	i=0
	while [ "$(pidof lvrun | wc -w)" != 1 ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(pidof lvrun | wc -w)" = 1 ]
}

# Counts run 1, 2, 3... without a gap or a restart.
consecutive() { # FILE
	counts "$1" | awk '$2 != NR { bad = 1 } END { exit bad || NR == 0 }'
}

# The largest TSC gap between two consecutive count lines.
max_gap() { # FILE
	counts "$1" | awk 'NR > 1 && $4 - t > g { g = $4 - t } { t = $4 }
			   END { printf "%.0f\n", g }'
}

# The smallest step of the TSC between two lines (negative: it went back).
min_gap() { # FILE
	counts "$1" | awk 'NR > 1 && (NR == 2 || $4 - t < g) { g = $4 - t } { t = $4 }
			   END { printf "%.0f\n", g }'
}

field() { # ANSWER KEY
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# Runs lvctl; sets $ans and $rc.
ctl() {
	ans=$(lvctl "$@")
	rc=$?
	echo "# lvctl $(echo "$*" | cut -c1-60): $ans (exit $rc)"
}

# The guests started after the first one run on the emulated machine's
# CPU 1 only (taskset, which execs lvrun: $! stays lvrun's pid). Each of
# their vCPUs spins; on both CPUs they would leave this script a
# fraction of a CPU and keep the emulator busy on both. The first
# guest's vCPUs, lvrun's control thread and lvctl still run at once on
# both CPUs for the pause, resume and save tests.
sock=$PWD/lv.sock
lvrun --vcpus 2 --control "$sock" --timeout 600 /guests/counter.elf \
	>out.txt 2>err.txt &
pid=$!
wait_socket "$sock"
wait_counts out.txt 5
result $? "counter.elf runs under lvrun --control"
if [ $failed != 0 ]; then
	sed 's/^/# lvrun: /' err.txt | head -20
	kill $pid 2>/dev/null
	echo "1..$n"
	exit 1
fi

ctl "$sock" status
echo "$ans" | grep -Eq '^ok state=running vcpus=2 exits=[0-9]+ memory=16777216$' &&
	[ "$rc" = 0 ] && [ "$(field "$ans" exits)" -gt 0 ]
result $? "status while running: state, vCPUs, exits, memory"

# Clients that connect and say nothing, or half a command, stay
# connected through all that follows (this shell holds their input
# open, read-write so that opening it never blocks); they must hold up
# nothing.
mkfifo idle1.in idle2.in
lvctl --session "$sock" <idle1.in >idle1.txt 2>&1 &
idle1=$!
exec 3<>idle1.in
lvctl --session "$sock" <idle2.in >idle2.txt 2>&1 &
idle2=$!
exec 4<>idle2.in
printf 'sta' >&4
sleep 1
wait_counts out.txt 3
result $? "the guest runs on while two clients sit idle on the socket"

ctl "$sock" pause
[ "$ans" = "ok state=paused" ] && [ "$rc" = 0 ]
result $? "pause answers ok state=paused"
size1=$(wc -c <out.txt)
ctl "$sock" status
st1=$ans
sleep 1
ctl "$sock" status
st2=$ans
size2=$(wc -c <out.txt)
[ "$size1" = "$size2" ]
result $? "paused: the console stops ($size1 then $size2 bytes a second apart)"
[ "$(field "$st1" state)" = paused ] && [ "$st1" = "$st2" ]
result $? "paused: status says paused, exit count unchanged across a second"

ctl "$sock" pause
[ "$ans" = 'error code=EALREADY msg="already paused"' ] && [ "$rc" = 1 ]
result $? "a second pause: error code=EALREADY, exit status 1"

sleep 2
before=$(last_count out.txt)
ctl "$sock" resume
[ "$ans" = "ok state=running" ] && [ "$rc" = 0 ]
result $? "resume answers ok state=running"
wait_counts out.txt 5
result $? "resumed: the console grows again"
consecutive out.txt && [ "$(tr -d '\r' <out.txt | grep -c '^counter: step')" = 1 ] &&
	[ "$(last_count out.txt)" -gt "$before" ]
result $? "resumed: the count goes on from $before, not restarted"

ctl "$sock" resume
[ "$ans" = 'error code=EALREADY msg="not paused"' ] && [ "$rc" = 1 ]
result $? "resume while running: error code=EALREADY"

ctl "$sock" ""
[ "$ans" = 'error code=EINVAL msg="empty command"' ] && [ "$rc" = 1 ]
result $? "empty line: error code=EINVAL"
ctl "$sock" frobnicate
[ "$ans" = 'error code=EINVAL msg="unknown command: frobnicate"' ] && [ "$rc" = 1 ]
result $? "unknown command: error code=EINVAL"
long=$(head -c 4000 /dev/zero | tr '\0' x)
ctl "$sock" "$long"
echo "$ans" | grep -q '^error code=EMSGSIZE ' && [ "$rc" = 1 ]
result $? "over-long line: error code=EMSGSIZE"
ctl "$sock" fork 4
[ "$ans" = 'error code=EINVAL msg="fork needs N and FILE"' ] && [ "$rc" = 1 ]
result $? "fork without a FILE: error code=EINVAL"
ctl "$sock" fork 0 "$PWD/none.snap"
[ "$ans" = 'error code=EINVAL msg="fork: N must be 1 to 64"' ] && [ "$rc" = 1 ] &&
	[ ! -e none.snap ]
result $? "fork of 0 children: error code=EINVAL, nothing saved"
ctl "$sock" migrate
[ "$ans" = 'error code=EINVAL msg="migrate needs an ADDRESS"' ] && [ "$rc" = 1 ]
result $? "migrate without an ADDRESS: error code=EINVAL"
ctl "$sock" save
[ "$ans" = 'error code=EINVAL msg="save needs a FILE"' ] && [ "$rc" = 1 ]
result $? "save without a FILE: error code=EINVAL"
ctl "$sock" save /no-such-dir/snap.bin
echo "$ans" | grep -q '^error code=ENOENT msg="cannot create ' && [ "$rc" = 1 ]
result $? "save into a missing directory: error code=ENOENT"

# A snapshot of the running guest (vCPU 0 printing, vCPU 1 in MMIO
# writes): lvrun pauses it, saves and resumes it.
before=$(last_count out.txt)
ctl "$sock" save "$PWD/snap.bin"
[ "$ans" = "ok saved=$PWD/snap.bin" ] && [ "$rc" = 0 ]
result $? "save FILE of a running guest answers ok"
after=$(last_count out.txt)
wait_counts out.txt 3
ctl "$sock" status
[ "$(field "$ans" state)" = running ] && consecutive out.txt
result $? "after the save the guest runs on, its count unbroken"
size=$(wc -c <snap.bin)
echo "# snapshot: $size bytes, $(du -k snap.bin | cut -f1) KiB on disk (zero pages are holes)"

# The first guest stays paused while its snapshot is restored and forked.
ctl "$sock" pause
taskset -c 1 lvrun --restore snap.bin --timeout 600 >restored.txt 2>rerr.txt &
rpid=$!
wait_counts restored.txt 5
result $? "lvrun --restore runs the saved guest"
first=$(counts restored.txt | head -n 1 | cut -d' ' -f2)
echo "# count $before before the save, $after after it; the restored guest starts at $first"
[ -n "$first" ] && [ "$first" -gt "$before" ] && [ "$first" -le $((after + 1)) ] &&
	! tr -d '\r' <restored.txt | grep -q '^counter: step'
result $? "restored: the count goes on from the save ($first), the guest does not restart"
counts restored.txt | awk -v f="$first" '$2 != f + NR - 1 { bad = 1 } END { exit bad }'
result $? "restored: the count is unbroken after that"
kill -TERM $rpid
wait $rpid
sed 's/^/# restored lvrun: /' rerr.txt | head -10

# Fork: four children of snap.bin, each a lvrun of its own (console
# child.K, control socket fork.sock.K), while the first guest is paused.
# Each goes on from the saved count; a reset takes child 0 back to it
# while the others count on.
taskset -c 1 lvrun --fork-from snap.bin --count 4 --fork-out "$PWD/child" \
	--control "$PWD/fork.sock" --timeout 600 >fork.out 2>&1 &
fpid=$!
st=0
for k in 0 1 2 3; do
	touch child.$k
	wait_counts child.$k 3 || st=1
done
result $st "--fork-from snap.bin --count 4: four children count"
firsts=$(for k in 0 1 2 3; do counts child.$k | head -n 1 | cut -d' ' -f2; done | sort -u)
[ "$firsts" = "$first" ]
result $? "each child goes on from the saved count ($(echo $firsts), as the restore: $first)"
ctl "$PWD/fork.sock.0" reset
[ "$ans" = "ok state=running" ] && [ "$rc" = 0 ]
result $? "reset of child 0 answers ok"
wait_counts child.0 3
counts child.0 | awk -v f="$first" 'NR == 1 { want = f }
	$2 != want { if ($2 == f && !reset) reset = 1; else bad = 1 }
	{ want = $2 + 1 } END { exit bad || !reset }'
result $? "child 0 counts again from $first after the reset"
st=0
for k in 1 2 3; do
	counts child.$k | awk -v f="$first" '$2 != f + NR - 1 { bad = 1 } END { exit bad }' || st=1
done
result $st "children 1-3 count on unbroken: the children are independent"
for k in 0 2 3; do	# child 1's save needs the CPU more than they do
	ctl "$PWD/fork.sock.$k" pause
done
ctl "$PWD/fork.sock.1" save "$PWD/child.snap"
ctl "$PWD/fork.sock.1" reset
[ "$ans" = "ok state=running" ]
result $? "a child saved again still resets to the snapshot it came from"
ctl "$sock" reset
[ "$ans" = 'error code=EOPNOTSUPP msg="reset needs a VM restored or forked from a snapshot"' ] &&
	[ "$rc" = 1 ]
result $? "reset of a VM that was not restored: error code=EOPNOTSUPP"
kill -TERM $fpid
wait $fpid
only_the_first_lvrun
result $? "killing the forking lvrun ends its children"
ctl "$sock" resume

# lvctl fork of the running guest: 2 children through live.snap, each a
# lvrun of its own (console live.snap.console.K, control socket
# live.snap.control.K), while the guest itself counts on. The children
# start from one count and then go their own ways: one paused stands
# still while the other counts on. (Four children are --fork-from's test
# above; every running guest here costs Bochs a CPU.)
before=$(last_count out.txt)
ctl "$sock" fork 2 "$PWD/live.snap"
lpid=$(field "$ans" pid)
[ "$rc" = 0 ] && [ "$ans" = "ok forked=2 saved=$PWD/live.snap pid=$lpid" ] &&
	[ -n "$lpid" ] && kill -0 "$lpid"
forked=$?
result $forked "fork 2 FILE of the running guest answers ok with the forking lvrun's pid"
# Without the children, waiting for their counts would only spend the
# suite's time: the tests that need them fail at once.
if [ $forked = 0 ]; then
	wait_counts out.txt 3 && consecutive out.txt
	result $? "the forked guest itself counts on, unbroken"
	ctl "$sock" pause	# its CPU time is the children's now
	st=0
	for k in 0 1; do
		touch live.snap.console.$k
		wait_counts live.snap.console.$k 3 || st=1
	done
	result $st "the two children count"
	firsts=$(for k in 0 1; do counts live.snap.console.$k | head -n 1 | cut -d' ' -f2; done | sort -u)
	echo "# count $before before the fork; the children start at $(echo "$firsts")"
	[ "$(echo "$firsts" | wc -l)" = 1 ] && [ "$firsts" -gt "$before" ]
	result $? "every child goes on from the one count of the fork ($(echo "$firsts"))"
	wait_socket "$PWD/live.snap.control.0"
	ctl "$PWD/live.snap.control.0" pause
	paused_at=$(nr_counts live.snap.console.0)
	wait_counts live.snap.console.1 3
	[ "$(nr_counts live.snap.console.0)" = "$paused_at" ] &&
		[ "$(last_count live.snap.console.1)" -gt "$(last_count live.snap.console.0)" ]
	result $? "the children are independent: child 0 paused stands still, child 1 counts on"
	kill -TERM "$lpid"
	only_the_first_lvrun
	result $? "killing the forking lvrun ends the children of lvctl fork"
	ctl "$sock" resume
else
	for t in "the forked guest itself counts on, unbroken" \
		"the two children count" \
		"every child goes on from the one count of the fork" \
		"the children are independent: child 0 paused stands still, child 1 counts on" \
		"killing the forking lvrun ends the children of lvctl fork"; do
		result 1 "$t (no fork)"
	done
fi
sed 's/^/# live.snap.log: /' live.snap.log | head -10

# Saved while paused: it stays paused.
ctl "$sock" pause
ctl "$sock" save "$PWD/snap2.bin"
[ "$rc" = 0 ] && [ -s snap2.bin ]
ans2=$ans
ctl "$sock" status
[ "$(field "$ans" state)" = paused ]
result $? "save of a paused guest ($ans2); it stays paused"

# Damaged snapshots are refused with the cause named, nothing runs.
# snap2.bin is damaged in place, one way at a time: copies of a 16 MiB
# file were this script's longest work. The first guest stays paused
# meanwhile.
bad_restore() { # FILE PATTERN NAME
	taskset -c 1 lvrun --restore "$1" --timeout 60 >bad.out 2>&1
	st=$?
	[ $st = 1 ] && grep -q "$2" bad.out && ! grep -q '^count' bad.out
	result $? "$3 (exit $st: $(head -n 1 bad.out | cut -c1-100))"
}
poke() { # FILE OFFSET: writes standard input's byte there
	dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
peek() { # FILE OFFSET: that byte to standard output
	dd if="$1" bs=1 skip="$2" count=1 2>/dev/null
}
peek snap2.bin 300 >byte.300
printf '\377' | poke snap2.bin 300
bad_restore snap2.bin "checksum mismatch" "a corrupted snapshot is refused"
poke snap2.bin 300 <byte.300
peek snap2.bin 8 >byte.8
printf '\007' | poke snap2.bin 8
bad_restore snap2.bin "format version 7" "a snapshot of another format version is refused"
poke snap2.bin 8 <byte.8
lvrun-snapforge snap2.bin
bad_restore snap2.bin "CPU features this host lacks" \
	"a snapshot whose guest saw CPU features this host lacks is refused"
truncate -s $(($(wc -c <snap2.bin) - 4096)) snap2.bin
bad_restore snap2.bin truncated "a truncated snapshot is refused"
head -c 64 /dev/zero >zero.bin
bad_restore zero.bin "bad magic" "a file that is no snapshot is refused"
lvrun --restore snap.bin /guests/counter.elf >bad.out 2>&1
[ $? = 1 ] && grep -q 'takes no IMAGE' bad.out
result $? "--restore with an IMAGE too is refused"
ctl "$sock" resume
ctl "$sock" status
kill -0 $pid && [ "$(field "$ans" state)" = running ]
result $? "lvrun runs on and answers after the bad commands"
wait_counts out.txt 3
result $? "and so does the guest"

ctl "$PWD/no-such.sock" status
[ "$rc" != 0 ] && [ "$rc" != 1 ]
result $? "lvctl to a missing socket: exit status $rc (not 0, not 1)"

lvrun --control "$sock" /guests/hello64.elf >second.txt 2>&1
[ $? = 1 ] && grep -q 'another process listens' second.txt
result $? "a second lvrun on a live socket is refused"
: >plain.txt
lvrun --control plain.txt /guests/hello64.elf >plain.out 2>&1
[ $? = 1 ] && grep -q 'not a socket' plain.out && [ -f plain.txt ]
result $? "an existing file that is not a socket is refused and left alone"

# Their input ends: lvrun drops the half line and closes them.
exec 3>&- 4>&-
wait $idle1 $idle2
[ ! -s idle1.txt ] && [ ! -s idle2.txt ]
result $? "idle clients: no answer to no command or half a one, connection closed"
kill -TERM $pid
wait $pid
[ ! -e "$sock" ]
result $? "lvrun ended by SIGTERM removes its socket"
sed 's/^/# lvrun: /' err.txt | head -20

# The guest's clock across a pause of about 3 s (300M ticks at Bochs's
# 100 ticks per microsecond): hidden by default, seen with
# --pause-clock wall. A normal step is 2M ticks plus the printing.
pause_run() { # OUT [OPTIONS...]
	out=$1
	shift
	taskset -c 1 lvrun --control "$sock" --timeout 600 "$@" /guests/counter.elf \
		>"$out" 2>>err2.txt &
	p=$!
	wait_socket "$sock"
	wait_counts "$out" 5
	ctl "$sock" pause
	sleep 3
	ctl "$sock" resume
	wait_counts "$out" 5
	kill -TERM $p
	wait $p
}
pause_run guest.txt
pause_run wall.txt --pause-clock wall
g=$(max_gap guest.txt)
w=$(max_gap wall.txt)
echo "# largest TSC gap between two lines: $g (guest clock), $w (wall clock)"
consecutive guest.txt && [ "$g" -gt 0 ] && [ "$g" -lt 50000000 ]
result $? "--pause-clock guest: the guest's TSC skips no more than 50M ticks across a 3 s pause ($g)"
# counter.elf set its own TSC to 2^40: the resume moves that clock back
# by the pause, it does not put back an offset lvrun knew.
gmin=$(min_gap guest.txt)
[ "$gmin" -gt 0 ] && [ "$(counts guest.txt | awk 'END { printf "%.0f", $4 }')" -gt 1099511627776 ]
result $? "--pause-clock guest: the TSC the guest wrote (2^40) keeps counting forward across the pause (smallest step $gmin)"
consecutive wall.txt && [ "$w" -gt 200000000 ] && [ "$g" -lt $((w / 4)) ]
result $? "--pause-clock wall: the TSC jumps by the pause ($w), 4 times what the guest mode shows"
sed 's/^/# lvrun: /' err2.txt | head -20

echo "1..$n"
[ $failed = 0 ]
