"""
Scenario: the command line refuses a malformed argument instead of guessing.
Found by static analysis (docs/hardening.md): --limit and --after went
through atoi()/atoll(), so `--limit 10x` listed 10 rows and `--limit x`
listed every row (0 means no limit); the simulator took `count=abc` as 0,
`pause -1` as a sleep of about 71 minutes and `--server host:http` as port
0; `policy set` took a file it could not read (a directory) for an empty
document.  Each is now refused with a message and exit status 2 (usage)
or 1, and nothing is done.
"""
import pytest


@pytest.mark.parametrize("args", [
    ("alerts", "list", "--limit", "10x"),
    ("alerts", "list", "--limit", "x"),
    ("alerts", "list", "--limit", "-1"),
    ("findings", "--limit", " 5"),
    ("findings", "--after", "-3"),
    ("findings", "--after", "99999999999999999999"),
    ("sim", "list", "--limit", "+5"),
    ("sim", "list", "--after", "1e3"),
])
def test_a_malformed_number_option_is_refused(daemon, args):
    r = daemon.cli(*args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    option = next(a for a in args if a.startswith("--"))
    assert "m2mguard: %s must be a number from 0 to " % option in r.stderr, r.stderr
    assert r.stdout == ""


def test_a_good_number_option_still_works(daemon):
    r = daemon.cli("sim", "list", "--limit", "3", check=True)
    assert len([x for x in r.stdout.splitlines()[1:] if x.strip()]) == 3, r.stdout
    assert daemon.cli("findings", "--after", "0", "--limit", "0").returncode == 0


@pytest.mark.parametrize("line, message", [
    ("attach x imsi=234151000000001 count=abc", "count must be a number from 0 to 100000"),
    ("attach x imsi=234151000000001 count=-1", "count must be a number from 0 to 100000"),
    ("attach x imsi=234151000000001 plmn=23415 area=70000", "area must be a number from 0 to 65535"),
    ("attach x imsi=234151000000001 plmn=23415 cell=0x1zz", "cell must be a number from 0 to"),
    ("acct x status=interim imsi=234151000000001 session=s in=-5", "in must be a number from 0 to"),
    ("pause -1", "pause takes MILLISECONDS (0 to 3600000)"),
    ("pause soon", "pause takes MILLISECONDS (0 to 3600000)"),
])
def test_a_malformed_scenario_number_stops_the_simulator_at_its_line(daemon, tmp_path, line,
                                                                      message):
    scenario = tmp_path / "bad.txt"
    scenario.write_text("# one bad line\n" + line + "\n")
    before = daemon.stats()["radius"]["received"]
    r = daemon.cli("simulate", "--scenario", scenario, timeout=30)
    assert r.returncode == 1, r.stdout
    assert "%s:2: %s" % (scenario, message) in r.stderr, r.stderr
    assert daemon.stats()["radius"]["received"] == before, "a request was sent"


def test_a_bad_server_port_is_refused(daemon, tmp_path):
    scenario = tmp_path / "one.txt"
    scenario.write_text("attach x imsi=234151000000001\n")
    r = daemon.cli("simulate", "--scenario", scenario, "--server", "127.0.0.1:http", timeout=30)
    assert r.returncode == 1
    assert 'bad port "http"' in r.stderr, r.stderr


def test_policy_set_from_a_directory_is_a_read_error(daemon, tmp_path):
    before = daemon.cli("policy", "show", "meters", check=True).stdout
    r = daemon.cli("policy", "set", "meters", tmp_path)
    assert r.returncode != 0
    assert "m2mguard: %s: Is a directory" % tmp_path in r.stderr, r.stderr
    assert daemon.cli("policy", "show", "meters", check=True).stdout == before
