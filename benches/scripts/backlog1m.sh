#!/bin/bash
# A tablet's backlog reaching its commune server: times `hailong sync --once` of COUNT waiting
# ratings (default 1,000,000) into a fresh server on a loopback port, and prints the server's
# CPU beside the tablet's.
#
# usage: backlog1m.sh BIN_DIR [COUNT] [SERVER_BIN_DIR]
#   BIN_DIR holds release builds of `hailong` (and `hailong-server` unless SERVER_BIN_DIR).
#   The demo tablet is made once and cached in /tmp/bl-tablet-COUNT.tar; TAR=FILE uses another
#   (for instance one already migrated by a newer build, so the migration is not timed).
set -e
BIN=$1; N=${2:-1000000}; SBIN=${3:-$BIN}
W=/tmp/bl; rm -rf $W/tablet $W/server.db*; mkdir -p $W
TAR=${TAR:-/tmp/bl-tablet-$N.tar}
if [ -f "$TAR" ]; then tar -C $W -xf "$TAR"; else
  $BIN/hailong --data-dir $W/tablet demo --count $N --days 300 > /dev/null
  tar -C $W -cf "$TAR" tablet; fi
$SBIN/hailong-server serve --db $W/server.db --listen 127.0.0.1:18555 > $W/server.log 2>&1 &
SP=$!
sleep 1
CODE=$($SBIN/hailong-server pair --db $W/server.db --counter "Quầy 1" | tail -1)
$BIN/hailong --data-dir $W/tablet pair --server http://127.0.0.1:18555 --code $CODE > /dev/null
read -r a b <<< "$(awk '{print $14, $15}' /proc/$SP/stat)"
/usr/bin/time -f "wall %e s, tablet user %U sys %S" $BIN/hailong --data-dir $W/tablet sync --once > $W/sync.log 2>&1 || true
tail -1 $W/sync.log
read -r c d <<< "$(awk '{print $14, $15}' /proc/$SP/stat)"
echo "server cpu $(( (c+d-a-b) ))/100 s"
kill $SP; wait $SP 2>/dev/null || true
