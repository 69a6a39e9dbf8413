#!/bin/sh
# Install the Debian packages listed in deps/debian-packages.txt that are not
# installed yet.  As root it runs apt-get; otherwise it prints the exact
# command to run and fails, so `make` never half-builds on a bare machine.
# Usage: scripts/install-deps.sh [extra-list-file...]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
lists="$here/deps/debian-packages.txt $*"
missing=""
for pkg in $(cat $lists | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$'); do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0
echo "m2mguard: missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "m2mguard: run as root:  apt-get install -y$missing" >&2
    exit 1
fi
