"""
Scenario: the operator's command line.  Every subcommand explains itself
with --help; check-config lists every mistake as FILE:LINE: message; a
carrier CSV with bad rows is refused as a whole with each bad row named;
columns come in any order; alerts are listed, acknowledged and resolved, a
repeated finding counting into its open alert; a policy with a typo is
refused with the JSON path of the mistake and the old policy stays.
"""
import re
import subprocess

import pytest

from conftest import BIN, DATA, FLEET, REPO, check_sanitizer_output, imeisv_of, read_fleet


def run(*args, **kw):
    r = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True,
                       timeout=30, cwd=REPO, **kw)
    check_sanitizer_output("m2mguard %s" % " ".join(map(str, args)), r.stderr)
    return r


def subcommands():
    out = run("--help").stdout
    section = out.split("commands:", 1)[1].split("options:", 1)[0]
    return [line.split()[0] for line in section.splitlines() if line.strip()]


def test_help_lists_the_subcommands():
    r = run("--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: m2mguard")
    names = subcommands()
    assert {"serve", "check-config", "stats", "reload", "tenant", "group", "sim", "policy",
            "alerts", "findings", "simulate"} <= set(names), names


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_has_help(command):
    for flag in ("--help", "-h"):
        r = run("-c", "/nonexistent/m2mguard.conf", command, flag)
        assert r.returncode == 0, (command, flag, r.stdout, r.stderr)
        assert "usage: m2mguard" in r.stdout, (command, r.stdout)
        assert command in r.stdout.splitlines()[0], r.stdout
        assert r.stderr == ""


def test_unknown_subcommand_is_an_error():
    r = run("frobnicate")
    assert r.returncode == 2
    assert 'unknown command "frobnicate"' in r.stderr


def test_check_config_reports_every_error_with_its_line():
    path = DATA / "broken.conf"
    r = run("check-config", path)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    expected = [
        (3, "workers must be 1..64"),
        (4, 'bad address "127.0.0.1:99999"'),
        (5, "require-message-authenticator must be yes or no"),
        (6, "dup-cache-ttl must be 1..300 seconds"),
        (7, 'unknown directive "colour"'),
        (9, 'bad prefix length in "127.0.0.1/33"'),
        (12, "usage: da-port 1..65535"),
        (13, 'unknown client directive "nickname"'),
        (8, 'client "ggsn" has no address'),
        (15, 'client "ggsn" already defined at line 8'),
        (18, '"}" without a block'),
        (20, "unterminated or misplaced quote"),
    ]
    for line, message in expected:
        prefix = "%s:%d: %s" % (path, line, message)
        assert any(x.startswith(prefix) for x in lines), (prefix, r.stderr)
    # A short secret is a warning, not an error.
    assert any(x.startswith("%s:10: warning: " % path) for x in lines), r.stderr
    # Every line of the report has the FILE:LINE: shape.
    assert all(re.match(r"^%s:\d+: " % re.escape(str(path)), x) for x in lines), r.stderr
    assert "OK" not in r.stdout


def test_check_config_accepts_a_good_configuration(daemon):
    r = run("check-config", daemon.conf)
    assert r.returncode == 0, r.stderr
    assert "OK (1 clients, 2 workers" in r.stdout
    # The -c form checks the same file.
    assert daemon.cli("check-config").returncode == 0


def sim_count(daemon):
    out = daemon.cli("sim", "list", "--limit", "0", check=True).stdout
    return sum(1 for line in out.splitlines()[1:] if line.strip())


def test_sim_import_refuses_a_file_with_bad_rows(daemon):
    path = DATA / "bad-import.csv"
    before = sim_count(daemon)
    assert before == len(FLEET)

    r = daemon.cli("sim", "import", path)
    assert r.returncode == 1, r.stdout + r.stderr
    err = r.stderr
    expected = {
        3: "ICCID \"8944110000000600022\": Luhn check digit wrong",
        4: "IMSI \"23415\": wrong number of digits",
        5: "IMEI \"353328110006045\": Luhn check digit wrong",
        6: "IP \"10.20.6.256\": not a usable dotted-quad IPv4 address",
        7: "duplicate IMSI 234151000000601",
    }
    reported = {}
    for line in err.splitlines():
        m = re.match(r"^%s:(\d+): (.*)$" % re.escape(str(path)), line)
        if m:
            reported[int(m.group(1))] = m.group(2)
    assert sorted(reported) == sorted(expected), err
    for line, reason in expected.items():
        assert reported[line].startswith(reason), (line, reported[line])
    assert "5 bad rows of 7; nothing was imported" in err

    # Nothing at all: not even the good rows 2 and 8.
    assert sim_count(daemon) == before
    for imsi in ("234151000000601", "234151000000607"):
        assert daemon.cli("sim", "show", imsi).returncode == 1


def test_sim_import_takes_columns_in_any_order(daemon, nas):
    path = DATA / "reordered.csv"
    r = daemon.cli("sim", "import", path)
    assert r.returncode == 0, r.stderr
    assert "imported 2 SIMs" in r.stdout

    show = daemon.cli("sim", "show", "234151000000702", check=True).stdout
    assert re.search(r"^ICCID\s+8944110000000600120$", show, re.M), show
    assert re.search(r"^MSISDN\s+447900700002$", show, re.M), show
    assert re.search(r"^group\s+meters$", show, re.M), show
    assert re.search(r"^bound IMEI\s+35332811000612 \(import\)$", show, re.M), show
    assert re.search(r"^static IP\s+10\.20\.7\.2$", show, re.M), show
    show = daemon.cli("sim", "show", "8944110000000600112", check=True).stdout
    assert re.search(r"^IMSI\s+234151000000701$", show, re.M), show
    assert re.search(r"^group\s+trackers$", show, re.M), show

    # And the daemon serves them.
    rows = read_fleet(path)
    r = nas.access(imsi="234151000000702", imeisv=imeisv_of(rows["234151000000702"]["imei"]),
                   plmn="23415", rat="LTE-M")
    assert r.accepted and r.get("Framed-IP-Address") == "10.20.7.2", r


def alerts_for(daemon, subject, *args):
    return [a for a in daemon.alerts(*args) if a["subject"] == subject]


def test_alerts_list_ack_resolve(daemon, nas):
    imsi = "001010000000777"

    def attempt():
        r = nas.access(imsi=imsi, imeisv="3533281199999901", plmn="23415")
        assert r.rejected and r.reply_message == "m2mguard: sim_unknown", r

    attempt()
    attempt()
    [a] = alerts_for(daemon, imsi)
    assert (a["kind"], a["state"], a["count"], a["tenant"]) == ("sim_unknown", "open", 2, "acme")
    assert a["evidence"]["imsi"] == imsi
    first_id = a["id"]

    r = daemon.cli("alerts", "ack", first_id)
    assert r.returncode == 0, r.stderr
    [a] = alerts_for(daemon, imsi)
    assert (a["id"], a["state"]) == (first_id, "acknowledged")
    assert [x["id"] for x in alerts_for(daemon, imsi, "--state", "open")] == []

    # Seen again: counted into the acknowledged alert, no new one.
    attempt()
    [a] = alerts_for(daemon, imsi)
    assert (a["id"], a["state"], a["count"]) == (first_id, "acknowledged", 3)

    r = daemon.cli("alerts", "resolve", first_id)
    assert r.returncode == 0, r.stderr
    assert alerts_for(daemon, imsi) == []
    [a] = alerts_for(daemon, imsi, "--all")
    assert (a["id"], a["state"], a["count"]) == (first_id, "resolved", 3)

    r = daemon.cli("alerts", "ack", first_id)
    assert r.returncode == 1 and "already resolved" in r.stderr
    r = daemon.cli("alerts", "ack", 999999)
    assert r.returncode == 1 and "does not exist" in r.stderr

    # After the resolve, the next finding opens a new alert.
    attempt()
    [a] = alerts_for(daemon, imsi)
    assert a["id"] != first_id and a["state"] == "open" and a["count"] == 1
    assert len(alerts_for(daemon, imsi, "--all")) == 2
    assert len(daemon.findings(kind="sim_unknown", subject=imsi)) == 4


def test_policy_with_a_typo_is_refused_and_the_old_one_stays(daemon, nas, tmp_path):
    before = daemon.cli("policy", "show", "meters", check=True).stdout
    assert "policy version 1" in before

    bad = tmp_path / "meters-typo.json"
    bad.write_text('{\n'
                   '  "imei_lock": { "mode": "enforce", "allowed_tacs": ["35332811"] },\n'
                   '  "location": { "mode": "enforce", "alowed_mcc": ["234"] },\n'
                   '  "rat": { "mode": "enforce", "allowed": ["EUTRAN", "LTE-N"] },\n'
                   '  "sesion": { "class": "x" }\n'
                   '}\n')
    r = daemon.cli("policy", "set", "meters", bad)
    assert r.returncode == 1, r.stdout
    assert '%s: location: unknown key "alowed_mcc"' % bad in r.stderr
    assert "%s: rat.allowed[1]: unknown radio type" % bad in r.stderr
    assert '%s: (document): unknown key "sesion"' % bad in r.stderr
    assert "policy not changed" in r.stderr

    assert daemon.cli("policy", "show", "meters", check=True).stdout == before
    # `policy check` reports the same without a database.
    r = run("policy", "check", bad)
    assert r.returncode == 1 and 'location: unknown key "alowed_mcc"' in r.stderr

    # The running daemon still applies version 1: UK only, LTE-M allowed.
    imsi = "234151000000022"
    dev = imeisv_of(FLEET[imsi]["imei"])
    r = nas.access(imsi=imsi, imeisv=dev, plmn="23415", rat="LTE-M")
    assert r.accepted and r.get("Class") == b"acme-meters", r
    r = nas.access(imsi=imsi, imeisv=dev, plmn="25001", rat="LTE-M")
    assert r.rejected and r.reply_message == "m2mguard: location_not_allowed", r


def test_stats_and_reload_fail_without_a_daemon(tmp_path, daemon):
    conf = tmp_path / "idle.conf"
    conf.write_text(daemon.conf.read_text().replace(str(daemon.control),
                                                    str(tmp_path / "nobody.sock")))
    for command in ("stats", "reload"):
        r = run("-c", conf, command)
        assert r.returncode == 1, (command, r.stdout)
        assert "no daemon answers on %s" % (tmp_path / "nobody.sock") in r.stderr
