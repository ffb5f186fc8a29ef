# A kernel panic, reported through pvpanic.
echo c >/proc/sysrq-trigger
