#!/bin/sh
# hooks/hang.sh PIDFILE: a hook that never ends by itself.  It starts a
# child (sleep) and writes "HOOK_PID CHILD_PID" to PIDFILE, so a test can
# check that a timeout killed the whole process group, child included.
sleep 600 &
child=$!
echo "$$ $child" >"$1.tmp"
mv "$1.tmp" "$1"
echo "hang-hook: started, child $child"
wait
