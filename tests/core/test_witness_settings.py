"""GOVFLOW_WITNESSES is parsed by a typed helper that fails loudly on a bad entry."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from govflow.core.env import env_witnesses
from govflow.witness import keyfile
from tests.core.test_settings import run


@pytest.fixture
def vkeys():
    return [keyfile.generate(f"w{i}.example/witness").cosigner.vkey for i in range(2)]


def test_entries_are_url_and_vkey_separated_by_commas_or_newlines(monkeypatch, vkeys):
    monkeypatch.setenv("GOVFLOW_WITNESSES",
                       f"http://127.0.0.1:7380/ {vkeys[0]},\n https://w.example {vkeys[1]}\n")
    witnesses = env_witnesses("GOVFLOW_WITNESSES")
    assert [(w.name, w.url) for w in witnesses] == [
        ("w0.example/witness", "http://127.0.0.1:7380"), ("w1.example/witness", "https://w.example"),
    ]


def test_unset_means_no_witnesses(monkeypatch):
    monkeypatch.delenv("GOVFLOW_WITNESSES", raising=False)
    assert env_witnesses("GOVFLOW_WITNESSES") == []


@pytest.mark.parametrize("entry", [
    "{vkey}",                                   # no URL
    "ftp://w.example {vkey}",                   # not http(s)
    "http://w.example notakey",                 # not a vkey
    "http://w.example {log_key}",               # a log (0x01) key, not a cosignature key
    "http://a.example {vkey},http://b.example {vkey}",  # the same witness twice
])
def test_a_malformed_entry_is_refused(monkeypatch, vkeys, entry):
    from govflow.trust.keys import generate_private_key
    from govflow.trust.note import make_verifier_key

    log_key = make_verifier_key("log.example", generate_private_key().public_key())
    monkeypatch.setenv("GOVFLOW_WITNESSES", entry.format(vkey=vkeys[0], log_key=log_key))
    with pytest.raises(ImproperlyConfigured, match="GOVFLOW_WITNESSES"):
        env_witnesses("GOVFLOW_WITNESSES")


def test_the_server_does_not_start_with_a_malformed_entry(tmp_path):
    result = run(tmp_path, "check", GOVFLOW_WITNESSES="http://w.example garbage")
    assert result.returncode != 0
    assert "GOVFLOW_WITNESSES" in result.stderr
