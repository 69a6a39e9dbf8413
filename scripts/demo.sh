#!/bin/sh
# `make demo`: a fresh store with the sample fleet, the daemon on loopback,
# and a GGSN simulator playing etc/scenario.txt against it.  Everything
# lives in ./run (removed and recreated); the daemon is stopped at the end.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bin="$here/build/m2mguard"
conf="$here/run/m2mguard.conf"
m() { "$bin" -c "$conf" "$@"; }

rm -rf run
mkdir -p run
# The demo runs on a copy of etc/m2mguard.conf: it holds the demo's RADIUS
# secret, and serve refuses a file that every user can read.  Run as root,
# serve would switch to the account m2mguard (docs/operator-guide.md), which
# cannot be assumed to reach a checkout: the demo says `user root`.
cp etc/m2mguard.conf "$conf"
chmod 600 "$conf"
if [ "$(id -u)" -eq 0 ]; then
    printf '\n# make demo, run as root from a checkout (production: an account of its own)\nuser root\n' >>"$conf"
fi
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Provision the sample fleet (etc/fleet.csv) and the group policies"
m sim import etc/fleet.csv --create-missing
m policy set meters etc/policies/meters.json --tenant acme
m policy set trackers etc/policies/trackers.json --tenant acme
m group list

step "2. Start the daemon: RADIUS on 127.0.0.1:18120 (log: run/daemon.log)"
"$bin" -c "$conf" serve >run/daemon.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT INT TERM
i=0
until m stats >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 50 ] || ! kill -0 $pid 2>/dev/null; then
        echo "the daemon did not start:" >&2
        cat run/daemon.log >&2
        exit 1
    fi
    sleep 0.1
done
cat run/daemon.log

step "2b. A webhook for acme's critical findings, and a live stream (HTTP API on 127.0.0.1:18180)"
/usr/bin/python3 scripts/demo-receiver.py 18190 run/webhook.secret run/webhook.txt &
rpid=$!
m webhook add http://127.0.0.1:18190/hook --tenant acme --events finding \
    --min-severity critical >run/webhook.secret
m webhook list --tenant acme
token=$(m token create demo-viewer --role viewer --tenant acme --days 1 2>/dev/null)
curl -sN -H "Authorization: Bearer $token" http://127.0.0.1:18180/v1/stream >run/stream.txt &
spid=$!
trap 'kill $pid $rpid $spid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT INT TERM
echo "webhook secret in run/webhook.secret (shown once); stream of acme's events in run/stream.txt"

step "3. A GGSN plays the scenario (etc/scenario.txt): decisions and findings as they happen"
m simulate --scenario etc/scenario.txt

step "4. Alerts an operator sees (m2mguard alerts)"
m alerts

step "5. Suspend a SIM from the CLI: its next attach is refused"
m sim suspend 8944110000000000024 --reason "demo: device reported stolen"
cat > run/suspended.txt <<'SCEN'
attach "The suspended meter tries to attach" imsi=234151000000002 imeisv=3533281100000201 plmn=23415 rat=NB-IoT expect=reject
SCEN
m simulate --scenario run/suspended.txt

step "5b. What acme's webhook received (signed POSTs, checked by the receiver) and its stream"
sleep 1
cat run/webhook.txt 2>/dev/null || echo "(nothing yet: m webhook deliveries 1)"
echo "stream: $(grep -c '^event: finding' run/stream.txt) findings and $(grep -c '^event: action' run/stream.txt) actions so far, e.g.:"
grep -m 2 -A 1 '^event: finding' run/stream.txt | cut -c 1-150

step "6. Counters (m2mguard stats)"
m stats | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); r=s["radius"]; print("requests %d, accepted %d, rejected %d, duplicates %d" % (r["received"], r["accepts"], r["rejects"], r["duplicates"])); print("findings:", ", ".join("%s %d" % kv for kv in s["findings"].items() if kv[1])); a=s["accounting"]; print("accounting: %d records committed, %d sessions started, %d cut by Disconnect-Request (ACKed), %d closed by Accounting-On" % (a["records"], a["sessions_started"], a["disconnect"]["ack"], a["sessions_nas_reset"]))'

step "Done.  Findings as JSON lines for a SIEM: run/events.jsonl"
