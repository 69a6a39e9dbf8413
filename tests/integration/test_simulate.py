"""
Scenario: the demo.  `m2mguard simulate` plays etc/scenario.txt (a GGSN
over the sample fleet) against a daemon loaded with etc/fleet.csv and
etc/policies: every step's expect= must be met, and the findings each step
is about must have been recorded.
"""
import pytest

from conftest import ETC


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("simulate", fleet=ETC / "fleet.csv")


def test_sample_scenario_meets_every_expectation(daemon):
    r = daemon.cli("simulate", "--scenario", ETC / "scenario.txt", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 unanswered;" in r.stdout, r.stdout
    assert "; 0 expectations not met" in r.stdout, r.stdout
    assert "NOT MET" not in r.stdout
    steps = sum(1 for line in (ETC / "scenario.txt").read_text().splitlines()
                if line.startswith("attach ") or line.startswith("acct "))
    assert "summary: %d steps" % steps in r.stdout
    # The daily limit step: the simulated GGSN received and ACKed the cut.
    assert "1 sessions cut by Disconnect-Request" in r.stdout, r.stdout
    assert "GGSN ← Disconnect-Request" in r.stdout

    kinds = {f["kind"] for f in daemon.findings()}
    assert {"software_version_changed", "imei_mismatch", "tac_not_allowed",
            "device_sim_changed", "location_not_allowed", "rat_not_allowed", "roaming",
            "sim_unknown", "attach_storm", "usage_warning", "usage_limit",
            "concurrent_sessions"} <= kinds, kinds
    # The simulator shows the findings it caused, read back from the event log.
    assert "finding imei_mismatch" in r.stdout
    assert (daemon.dir / "events.jsonl").stat().st_size > 0


def test_scenario_with_a_wrong_expectation_fails(daemon, tmp_path):
    scenario = tmp_path / "wrong.txt"
    scenario.write_text('attach "an unknown SIM expected in" imsi=001019999999998 '
                        'imeisv=3533281199999901 plmn=23415 rat=EUTRAN expect=accept\n')
    r = daemon.cli("simulate", "--scenario", scenario, timeout=60)
    assert r.returncode == 1, r.stdout
    assert "expected accept: NOT MET" in r.stdout
