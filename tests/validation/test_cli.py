"""sim validate-model prints the table and exits 1 when a check fails."""

import sim.validation as validation
from sim.cli import main


def test_validate_model_prints_table_and_passes(capsys):
    assert main(["validate-model", "--size", "small", "--checks", "accounting,pairing"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["check", "expected", "got", "tolerance", "pass"]
    assert "FAIL" not in out and "9/9 passed" in out


def test_validate_model_exits_1_on_failure(monkeypatch, capsys, tmp_path):
    def broken(size):
        return [validation.result("broken: 1 + 1", 2, 3, 0, False)]

    monkeypatch.setitem(validation.CHECKS, "accounting", broken)
    csv = tmp_path / "table.csv"
    assert main(["validate-model", "--size", "small", "--checks", "accounting", "--csv", str(csv)]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert "broken" in csv.read_text()


def test_unknown_check_is_a_usage_error(capsys):
    assert main(["validate-model", "--checks", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--checks" in err
