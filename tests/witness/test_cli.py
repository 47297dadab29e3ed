"""`python -m govflow.witness keygen | vkey | serve --help`, and its refusals."""

from __future__ import annotations

import stat

import pytest

from govflow.trust.cosignature import parse_cosigner_vkey
from govflow.witness import keyfile
from govflow.witness.cli import main


def test_keygen_writes_an_owner_only_key_and_prints_its_vkey(tmp_path, capsys):
    path = tmp_path / "w.key"
    assert main(["keygen", "--name", "regulator.example/w1", "--out", str(path)]) == 0
    printed = capsys.readouterr().out.strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert parse_cosigner_vkey(printed).name == "regulator.example/w1"
    assert main(["vkey", "--key", str(path)]) == 0
    assert capsys.readouterr().out.strip() == printed


def test_keygen_never_overwrites_a_witness_key(tmp_path, capsys):
    path = tmp_path / "w.key"
    main(["keygen", "--name", "a.example/w", "--out", str(path)])
    before = path.read_text()
    assert main(["keygen", "--name", "a.example/w", "--out", str(path)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert path.read_text() == before


def test_a_tampered_key_file_is_refused(tmp_path, capsys):
    path = tmp_path / "w.key"
    keyfile.save(keyfile.generate("a.example/w"), path)
    path.write_text(path.read_text().replace("a.example/w", "b.example/w"))
    assert main(["vkey", "--key", str(path)]) == 2
    assert "does not match" in capsys.readouterr().err


def test_serve_refuses_a_log_key_that_is_not_one(tmp_path, capsys):
    path = tmp_path / "w.key"
    keyfile.save(keyfile.generate("a.example/w"), path)
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--state", str(tmp_path / "s"), "--key", str(path), "--log", "nonsense"])
    assert exit_info.value.code == 2
    assert "not a log verifier key" in capsys.readouterr().err


def test_help_documents_the_protocol_and_the_state(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for phrase in ("409", "422", "text/x.tlog.size", "killed",
                   "keygen", "--state"):
        assert phrase in text
