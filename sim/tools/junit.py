"""`clobsim run --junit-xml FILE`: the run as JUnit XML, the format CI servers read.

One <testcase> per scenario (classname `clobsim.<bot>`, name the scenario's name, file its
scenario file), in the run's order, inside one <testsuite name="clobsim">. A failed scenario
carries one <failure>: its `type` the leading check (the first failing invariant, else
expectation), its `message` one line (the check and its key evidence), its text every failed
check with its evidence and the reproduce command, as `clobsim run` prints them. A fault that
never fired is a <failure type="fault-never-fired"> under `--strict`, else a line of
<system-err>. No wall-clock time is written, so the same run gives the same bytes.
"""

from __future__ import annotations

from junitparser import Attr, Failure, JUnitXml, TestCase, TestSuite

from clobsim.sim.tools.results import failure_text, lead_check

SUITE = "clobsim"
FAULT_NEVER_FIRED = "fault-never-fired"


class ScenarioCase(TestCase):
    file = Attr()  # the scenario file, as pytest's JUnit XML names a test's file


def testcase(record: dict, *, strict: bool) -> TestCase:
    case = ScenarioCase(record["scenario"], classname=f"{SUITE}.{record['bot']}")
    case.file = str(record.get("file") or "")
    silent = list(record.get("faults_silent") or [])
    if record["verdict"] == "fail":
        lead = lead_check(record)
        evidence = (lead.get("evidence") or [""])[0]
        message = f"{lead['id']}: {lead['message']}" + (f": {evidence}" if evidence else "")
        failure = Failure(message, str(lead["id"]))
        failure.text = failure_text(record).strip("\n")
        case.result = [failure]
    elif strict and silent:
        failure = Failure(f"{', '.join(silent)} never fired: the scenario tests nothing of it", FAULT_NEVER_FIRED)
        failure.text = f"reproduce: {record['reproduce']}"
        case.result = [failure]
    if silent:
        case.system_err = "".join(f"warning: {fault} never fired; it tests nothing\n" for fault in silent)
    return case


def write(records: list[dict], path: str, *, strict: bool = False) -> None:
    suite = TestSuite(SUITE)
    for record in records:
        suite.add_testcase(testcase(record, strict=strict))
    suite.update_statistics()
    suite.time = 0  # simulated runs: wall time is not part of a run's output
    document = JUnitXml()
    document.add_testsuite(suite)
    document.update_statistics()
    document.time = 0
    document.write(path, pretty=True)
