"""The test harness itself, without an emulator: the counts behind
`make test`'s last line (scripts/junit-counts.py for pytest,
scripts/run-unit.sh for cmocka), strict expected failures and the
missing-emulator policy of conftest.require()."""

import os
import subprocess
import textwrap

from conftest import REPO

PYTHON = "/usr/bin/python3"

INNER_CONFTEST = textwrap.dedent(f"""
    import importlib.util, sys
    sys.path.insert(0, {str(REPO / "tests" / "integration")!r})
    spec = importlib.util.spec_from_file_location(
        "bulkhead_conftest", {str(REPO / "tests" / "integration" / "conftest.py")!r})
    bc = importlib.util.module_from_spec(spec)
    sys.modules["bulkhead_conftest"] = bc
    spec.loader.exec_module(bc)
    pytest_collection_modifyitems = bc.pytest_collection_modifyitems
""")

INNER_TESTS = textwrap.dedent("""
    import pytest
    import bulkhead_conftest as bc

    def test_pass(): pass
    def test_fail(): assert 0
    def test_skip(): pytest.skip("not here")

    @pytest.mark.xfail(reason="known bug")
    def test_xfail(): assert 0

    @pytest.mark.xfail(reason="fixed already", strict=False)
    def test_xpass_nonstrict(): pass

    @pytest.fixture
    def bad_teardown():
        yield
        raise RuntimeError("teardown")

    def test_fail_then_teardown_error(bad_teardown): assert 0

    def test_missing_emulator(monkeypatch):
        monkeypatch.setattr(bc.emu, "have_emulator", lambda name: False)
        bc.require("bochs")
""")


def inner_pytest(tmp_path, env_extra):
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    env = {k: v for k, v in os.environ.items()
           if k not in ("CI", "BULKHEAD_ALLOW_MISSING_EMULATOR", "PYTEST_XDIST_WORKER")}
    env.update(env_extra)
    report = tmp_path / "junit.xml"
    subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                    f"--junitxml={report}", str(tmp_path / "test_inner.py")],
                   cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   text=True, timeout=120)
    counts = subprocess.run([PYTHON, str(REPO / "scripts" / "junit-counts.py"), str(report)],
                            stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    return tuple(int(n) for n in counts)


def test_pytest_counts_every_outcome_once(tmp_path):
    # passed: test_pass. failed: test_fail, the non-strict XPASS (made
    # strict), the failure with a teardown error (once, not twice), the
    # missing emulator. skipped: test_skip, test_xfail.
    assert inner_pytest(tmp_path, {}) == (1, 4, 2)


def test_missing_emulator_fails_in_ci_even_when_skips_are_allowed(tmp_path):
    env = {"CI": "true", "BULKHEAD_ALLOW_MISSING_EMULATOR": "1"}
    assert inner_pytest(tmp_path, env) == (1, 4, 2)


def test_missing_emulator_skips_only_when_allowed_outside_ci(tmp_path):
    assert inner_pytest(tmp_path, {"BULKHEAD_ALLOW_MISSING_EMULATOR": "1"}) == (1, 3, 3)


def test_junit_counts_without_a_report(tmp_path):
    out = subprocess.run([PYTHON, str(REPO / "scripts" / "junit-counts.py"),
                          str(tmp_path / "none.xml")], stdout=subprocess.PIPE, text=True).stdout
    assert out.split() == ["-1", "-1", "-1"]


CMOCKA_TEST = textwrap.dedent("""
    #include <stdarg.h>
    #include <stddef.h>
    #include <setjmp.h>
    #include <stdint.h>
    #include <stdlib.h>
    #include <cmocka.h>
    static void ok(void **s) { (void)s; }
    static void skipped(void **s) { (void)s; skip(); }
    static void bad(void **s) { (void)s; assert_int_equal(1, 2); }
    int main(int argc, char **argv)
    {
        (void)argv;
        if (argc > 1)
            abort(); /* a crash before any summary */
        const struct CMUnitTest t[] = {cmocka_unit_test(ok), cmocka_unit_test(ok),
                                       cmocka_unit_test(skipped), cmocka_unit_test(bad)};
        return cmocka_run_group_tests(t, NULL, NULL);
    }
""")


def test_run_unit_counts_passed_failed_skipped_and_crashes(tmp_path):
    src = tmp_path / "t.c"
    src.write_text(CMOCKA_TEST)
    subprocess.run(["cc", str(src), "-lcmocka", "-o", str(tmp_path / "t")], check=True)
    crash = tmp_path / "crash"
    crash.write_text(f'#!/bin/sh\nexec {tmp_path / "t"} crash\n')
    crash.chmod(0o755)
    r = subprocess.run([str(REPO / "scripts" / "run-unit.sh"), str(tmp_path / "t"), str(crash),
                        str(tmp_path / "missing")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    last = r.stdout.rstrip().splitlines()[-1]
    # t: 2 passed, 1 failed, 1 skipped; the crash and the missing binary: 1
    # failure each.
    assert last == "unit: 2 passed, 3 failed, 1 skipped", r.stdout
    assert r.returncode != 0
