"""core/config/security.py's checks the HA options flow shows as form errors: a certificate
and key pair (`tls_pair_problem`) and a stored password as a form may show it."""

from __future__ import annotations

from pathlib import Path

from custom_components.eflux.core.config.security import masked_password, tls_pair_problem
from tests.central.test_server import _self_signed


def test_a_certificate_and_its_key_load(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    assert tls_pair_problem(cert, key) is None


def test_each_problem_names_the_file_to_fix(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    other_cert, other_key = _self_signed(other)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    cases = [
        (tmp_path / "missing.pem", key, "tls_cert", "unreadable", "cannot read"),
        (cert, tmp_path / "missing.key", "tls_key", "unreadable", "cannot read"),
        (tmp_path, key, "tls_cert", "unreadable", "cannot read"),  # a directory
        (cert, other_key, "tls_cert", "mismatch", "do not load"),  # another's key
        (garbage, key, "tls_cert", "mismatch", "do not load"),
        (key, cert, "tls_cert", "mismatch", "do not load"),  # swapped
    ]
    for cert_path, key_path, field, kind, says in cases:
        problem = tls_pair_problem(cert_path, key_path)
        assert problem is not None, (cert_path, key_path)
        assert (problem.field, problem.kind) == (field, kind), (cert_path, key_path)
        assert says in problem.detail
    assert tls_pair_problem(other_cert, other_key) is None


def test_a_masked_password_shows_only_its_end_and_length() -> None:
    password = "Garage-Door-Secret-2026"
    shown = masked_password(password)
    assert password not in shown
    assert password[:-2] not in shown
    assert shown.endswith(f"26 ({len(password)})")
    assert masked_password(None) == masked_password("") == ""
