#!/bin/sh
# Live migration between lvruns on this machine, with memwriter.elf in a
# 4 MiB guest (prints "count N tsc T" every 2M TSC ticks while it writes,
# and checks, 1 MiB of memory every step): lvctl migrate to lvrun
# --incoming over unix:, then from there on over tcp:127.0.0.1; a stream
# cut in the middle of the memory, a target that refuses (another --mem)
# and bad addresses leave the source running; a stream cut at the end
# of pre-copy leaves the source running, never paused (SYNCED lost); a
# stream cut at the handover runs the guest on one side only (READY
# lost: the source; GO sent and RUNNING lost: the target, the source
# exiting 14). Prints TAP.
#
# Small on purpose (the suite runs in Bochs): a 4 MiB guest, a few counts
# per check. Time limits here only end a hung run, so that a failure
# costs seconds, not the suite's timeout; the checks are on what the
# guest and lvrun report.
# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$0")/tap.sh"

# Every lvrun and helper started here, killed at the end whatever happened.
pids=
cleanup() {
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
}
trap cleanup EXIT

# The complete "count" lines of FILES so far, joined as one console
# (a line the source began may end on the target), without CRs.
counts() { # FILE...
	cat "$@" | tr -d '\r' >snap.txt
	[ -z "$(tail -c 1 snap.txt)" ] || sed -i '$d' snap.txt
	grep '^count [0-9]* tsc [0-9]*$' snap.txt
}

nr_counts() {
	counts "$@" | wc -l
}

last_count() {
	counts "$@" | tail -n 1 | cut -d' ' -f2
}

# Polls (5 times a second, at most 120 s) until COMMAND succeeds.
poll() { # COMMAND...
	i=0
	while ! "$@" && [ $i -lt 600 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	"$@"
}

has_counts() { # FILE N
	[ "$(nr_counts "$1")" -ge "$2" ]
}

# Until FILE holds N more complete count lines.
wait_counts() { # FILE N
	poll has_counts "$1" $(($(nr_counts "$1") + $2))
}

has_line() { # FILE PATTERN
	grep -q "$2" "$1" 2>/dev/null
}

# Until PATTERN is in FILE.
wait_line() { # FILE PATTERN
	poll has_line "$1" "$2"
}

# Ended: no process, or a zombie the shell has not reaped yet.
gone() { # PID
	! kill -0 "$1" 2>/dev/null ||
		grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# PID's exit status once it ends; killed after 120 s (status 137).
reap() { # PID
	poll gone "$1" || kill -KILL "$1" 2>/dev/null
	wait "$1"
}

# A TCP port listening, from /proc/net/tcp{,6} (state 0A).
listening() { # PORT
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		grep -qi "^ *[0-9]*: [0-9A-F]*:$(printf '%04X' "$1") [0-9A-F:]* 0A "
}

# Counts run 1, 2, 3... without a gap or a restart across FILES.
consecutive() { # FILE...
	counts "$@" | awk '$2 != NR { bad = 1 } END { exit bad || NR == 0 }'
}

field() { # ANSWER KEY
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

ctl() {
	ans=$(lvctl --timeout 300 "$@")
	rc=$?
	echo "# lvctl $(echo "$*" | cut -c1-70): $ans (exit $rc)"
}

# The checksum lvrun logged at the switch, from its stderr FILE.
logged_sum() { # FILE WHO
	sed -n "s/^lvrun: $2: memory checksum \([0-9a-f]*\)$/\1/p" "$1" | tail -n 1
}

show() { # FILE PREFIX
	sed "s/^/# $2: /" "$1" | grep -v '^# [a-z0-9]*: count ' | head -20
}

# Checks a migration's answer: state, rounds, pages, both times.
answer_ok() { # NAME
	rounds=$(field "$ans" rounds)
	pages=$(field "$ans" pages)
	total=$(field "$ans" total_ticks)
	down=$(field "$ans" downtime_ticks)
	[ "$rc" = 0 ] && [ "$(field "$ans" state)" = migrated ] &&
		[ "$rounds" -ge 2 ] &&
		[ "$(echo "$pages" | tr ',' '\n' | grep -c '^[0-9][0-9]*$')" = "$rounds" ] &&
		[ "$down" -gt 0 ] && [ "$down" -lt "$total" ]
	result $? "$1: ok state=migrated, $rounds rounds (pages $pages), total $total ticks, downtime $down ticks"
}

# Intact memory and an unbroken count over FILES, N more counts on the last.
counts_on() { # N FILE...
	more=$1
	shift
	for last; do :; done
	wait_counts "$last" "$more" && consecutive "$@" &&
		! grep -q 'memwriter: page' "$@"
}

# tcp:127.0.0.1 needs the loopback interface, which init leaves down.
ip link set lo up

# The source, counting and writing memory.
lvrun --mem 4M --control "$PWD/src.sock" --timeout 600 /guests/memwriter.elf \
	>src.out 2>src.err &
src=$!
pids="$pids $src"
wait_counts src.out 3
result $? "memwriter.elf counts in 4 MiB under lvrun --control"

# --- unix: ------------------------------------------------------------
lvrun --incoming "unix:$PWD/mig1.sock" --control "$PWD/t1.sock" \
	--timeout 600 >t1.out 2>t1.err &
t1=$!
pids="$pids $t1"
wait_line t1.err "incoming: waiting on unix:"
result $? "lvrun --incoming unix:PATH waits for a source"

ctl "$PWD/src.sock" migrate "unix:$PWD/mig1.sock" checksum
answer_ok "migrate unix:PATH checksum"
reap $src
st=$?
[ $st = 12 ]
result $? "the source exits with status 12 once the target runs the guest ($st)"
show src.err source
s1=$(logged_sum src.err migrate)
d1=$(logged_sum t1.err incoming)
echo "# memory checksum at the switch: source $s1, target $d1"
[ -n "$s1" ] && [ "$s1" = "$d1" ] && [ "$s1" = "$(field "$ans" checksum)" ]
result $? "at the switch the target's memory checksum equals the source's ($s1)"
grep -q '^lvrun: migrate: round 1: [0-9]* pages in [0-9]* TSC ticks$' src.err &&
	grep -q '^lvrun: migrated to unix:.* pages per round .* TSC ticks in all, downtime [0-9]* TSC ticks$' src.err
result $? "the source's stderr has pages per round, total time and downtime"
last_src=$(last_count src.out)
counts_on 3 src.out t1.out
result $? "the target counts on from the source's $last_src, unbroken, every page intact"
ctl "$PWD/t1.sock" status
[ "$(field "$ans" state)" = running ]
result $? "the target answers on its control socket: running"
show t1.err target1

# --- tcp: from the first target on -------------------------------------
lvrun --incoming tcp:127.0.0.1:47123 --control "$PWD/t2.sock" \
	--timeout 600 >t2.out 2>t2.err &
t2=$!
pids="$pids $t2"
wait_line t2.err "incoming: waiting on tcp:127.0.0.1:47123"
ctl "$PWD/t1.sock" migrate tcp:127.0.0.1:47123 checksum
answer_ok "migrate tcp:127.0.0.1:PORT checksum (a migrated guest moves again)"
reap $t1
st=$?
s2=$(logged_sum t1.err migrate)
d2=$(logged_sum t2.err incoming)
[ $st = 12 ] && [ -n "$s2" ] && [ "$s2" = "$d2" ]
result $? "over tcp: the source exits 12 ($st), checksums equal at the switch ($s2, $d2)"
counts_on 3 src.out t1.out t2.out
result $? "the count goes on over three lvruns, unbroken, every page intact"
show t2.err target2

# --- a stream cut in the middle ----------------------------------------
# A relay (nc) passes the source's first 300000 bytes to the target and
# then no more: the cut falls in the first round's pages (the guest's
# 1 MiB area alone is more), after HELLO and ACCEPT. dd, not head: head
# would hold HELLO in its buffer. The target sees the stream end and
# refuses; the source sees that refusal or, if it is still sending, the
# connection reset once the relay is gone.
lvrun --incoming tcp:127.0.0.1:47301 --timeout 600 >cut.out 2>cut.err &
cut=$!
pids="$pids $cut"
nc -l -p 47300 -e sh -c \
	'dd bs=4096 count=300000 iflag=count_bytes 2>/dev/null | nc 127.0.0.1 47301' &
relay=$!
pids="$pids $relay"
wait_line cut.err "incoming: waiting on" && poll listening 47300
ctl "$PWD/t2.sock" migrate tcp:127.0.0.1:47300
reap $cut
st=$?
echo "# the cut target exited $st: $(tail -n 1 cut.err)"
[ $rc = 1 ] &&
	echo "$ans" | grep -Eq '^error code=(EPIPE|ECONNRESET|ECONNREFUSED) msg=".*(closed the stream|reset)' &&
	[ $st = 1 ] && grep -q 'incoming: the peer closed the stream' cut.err &&
	! grep -q 'incoming: round\|guest runs here' cut.err && [ ! -s cut.out ]
result $? "a stream cut in round 1: the source answers the error, the target exits 1 having run nothing"
ctl "$PWD/t2.sock" status
[ "$(field "$ans" state)" = running ] && kill -0 $t2
result $? "after the cut the source runs on (status running)"
counts_on 3 src.out t1.out t2.out
result $? "and its guest counts on, unbroken, every page intact"
grep -q 'migrate to tcp:.* failed, the guest stays here' t2.err
result $? "the source's stderr says the migration failed and the guest stays"
reap $relay >/dev/null

# --- the handover cut: at most one copy runs ----------------------------
# A relay passes the whole stream to the target, but of the target's
# answers only the first BYTES (each answer is a 16-byte header), and
# then ends both connections: the inner nc dies writing the next answer
# into the pipe dd has left. So the source never hears the answer after
# those bytes, and the target loses the stream right after sending it.
handover_relay() { # PORT TARGET_PORT BYTES
	nc -l -p "$1" -e sh -c \
		"nc 127.0.0.1 $2 | dd bs=1 count=$3 2>/dev/null" &
	relay=$!
	pids="$pids $relay"
}

# Only ACCEPT comes back: SYNCED is lost, so the source never pauses the
# guest: it answers the error and its guest runs on; the target, cut
# off in the middle of the stream, exits 1 without running it.
lvrun --incoming tcp:127.0.0.1:47331 --timeout 600 >h0.out 2>h0.err &
h0=$!
pids="$pids $h0"
handover_relay 47330 47331 16
wait_line h0.err "incoming: waiting on" && poll listening 47330
ctl "$PWD/t2.sock" migrate tcp:127.0.0.1:47330
reap $h0
st=$?
echo "# the target exited $st: $(tail -n 1 h0.err)"
[ $rc = 1 ] &&
	echo "$ans" | grep -Eq '^error code=(EPIPE|ECONNRESET) msg="no SYNCED from the target: ' &&
	[ $st = 1 ] && ! grep -q 'guest runs here' h0.err && [ ! -s h0.out ]
result $? "SYNCED lost: the source answers the error before any pause; the target exits 1 having run nothing"
ctl "$PWD/t2.sock" status
[ "$(field "$ans" state)" = running ] && counts_on 3 src.out t1.out t2.out
result $? "SYNCED lost: the guest runs on the source only, its count unbroken"
reap $relay >/dev/null

# ACCEPT and SYNCED come back, READY is lost. The target, which has it
# all but no GO, exits 1 without running the guest; the source resumes
# it. (With stream version 1 this was RUNNING lost: both ran the guest.)
lvrun --incoming tcp:127.0.0.1:47311 --timeout 600 >h1.out 2>h1.err &
h1=$!
pids="$pids $h1"
handover_relay 47310 47311 32
wait_line h1.err "incoming: waiting on" && poll listening 47310
ctl "$PWD/t2.sock" migrate tcp:127.0.0.1:47310
reap $h1
st=$?
echo "# the target exited $st: $(tail -n 1 h1.err)"
[ $rc = 1 ] &&
	echo "$ans" | grep -Eq '^error code=(EPIPE|ECONNRESET) msg="no READY from the target: ' &&
	[ $st = 1 ] && grep -q 'incoming: no GO from the source: .*: the guest does not run here' h1.err &&
	! grep -q 'guest runs here' h1.err && [ ! -s h1.out ]
result $? "READY lost: the source answers the error, the target exits 1 having run nothing"
ctl "$PWD/t2.sock" status
[ "$(field "$ans" state)" = running ] && counts_on 3 src.out t1.out t2.out
result $? "READY lost: the guest runs on the source only, its count unbroken"
reap $relay >/dev/null

# ACCEPT, SYNCED and READY come back, RUNNING is lost: the source sent GO, so
# it must not resume: it answers EREMOTEIO and exits 14, the guest
# paused for good; the target got GO and runs it alone.
lvrun --incoming tcp:127.0.0.1:47321 --control "$PWD/t3.sock" \
	--timeout 600 >t3.out 2>t3.err &
t3=$!
pids="$pids $t3"
handover_relay 47320 47321 48
wait_line t3.err "incoming: waiting on" && poll listening 47320
ctl "$PWD/t2.sock" migrate tcp:127.0.0.1:47320
reap $t2
st=$?
echo "# the source exited $st: $(tail -n 1 t2.err)"
[ $rc = 1 ] && [ $st = 14 ] &&
	echo "$ans" | grep -q '^error code=EREMOTEIO msg="the stream broke after GO (.*): the target may run the guest; it stays stopped here"$' &&
	grep -q 'incoming: the guest runs here' t3.err
result $? "RUNNING lost after GO: the source answers EREMOTEIO and exits 14 ($st), the target runs the guest"
last_src=$(last_count t2.out)
counts_on 3 src.out t1.out t2.out t3.out
result $? "RUNNING lost: the count goes on from the source's $last_src on the target only, unbroken, every page intact"
reap $relay >/dev/null
show t3.err target3

# --- a target that refuses ---------------------------------------------
lvrun --incoming "unix:$PWD/ref.sock" --mem 8M --timeout 600 \
	>ref.out 2>ref.err &
ref=$!
pids="$pids $ref"
wait_line ref.err "incoming: waiting on"
ctl "$PWD/t3.sock" migrate "unix:$PWD/ref.sock"
[ $rc = 1 ] && [ "$ans" = 'error code=ECONNREFUSED msg="the target refused: the guest has 4 MiB of memory, this lvrun --mem 8 MiB"' ]
result $? "a target with another --mem refuses: error code=ECONNREFUSED naming the sizes"
reap $ref
st=$?
[ $st = 1 ] && grep -q 'incoming: the guest has 4 MiB' ref.err && [ ! -s ref.out ]
result $? "the refusing target exits 1 with the cause, having run nothing ($st)"
ctl "$PWD/t3.sock" status
[ "$(field "$ans" state)" = running ] && counts_on 2 src.out t1.out t2.out t3.out
result $? "the source runs on after the refusal, its count unbroken"

# --- bad addresses -------------------------------------------------------
ctl "$PWD/t3.sock" migrate "unix:$PWD/nobody.sock"
[ $rc = 1 ] && echo "$ans" | grep -q '^error code=ENOENT msg="cannot connect to the target: '
result $? "migrate to a missing socket: error code=ENOENT"
ctl "$PWD/t3.sock" migrate tcp:127.0.0.1:47124
[ $rc = 1 ] && echo "$ans" | grep -q '^error code=ECONNREFUSED msg="cannot connect to the target: '
result $? "migrate to a tcp port nobody listens on: error code=ECONNREFUSED"
ctl "$PWD/t3.sock" migrate ftp:host
[ "$ans" = 'error code=EINVAL msg="address must be unix:PATH or tcp:HOST:PORT"' ]
result $? "migrate to a malformed address: error code=EINVAL"
lvrun --incoming tcp:localhost:1 >bad.out 2>&1
[ $? = 1 ] && grep -q 'not an IPv4 or IPv6 address' bad.out
result $? "lvrun --incoming with a host name is refused"
lvrun --incoming "unix:$PWD/x.sock" /guests/counter.elf >bad.out 2>&1
[ $? = 1 ] && grep -q 'takes no IMAGE' bad.out
result $? "lvrun --incoming with an IMAGE is refused"
counts_on 2 src.out t1.out t2.out t3.out
result $? "after all that the guest still counts on, unbroken, every page intact"

kill -TERM $t3
reap $t3 >/dev/null
echo "1..$n"
[ $failed = 0 ]
