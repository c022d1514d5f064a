"""The cheap Argon2 profile is for tests only; production refuses it."""

from __future__ import annotations

import pytest

from registry.access import passwords


def test_suite_hashes_with_the_cheap_profile_and_still_verifies() -> None:
    hashed = passwords.hash_secret("correct horse battery")
    assert "m=1024,t=1,p=1" in hashed
    assert passwords.verify_secret("correct horse battery", hashed)
    assert not passwords.verify_secret("wrong horse battery", hashed)


def test_production_refuses_the_test_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_ARGON2_PROFILE", "test")
    monkeypatch.setenv("REGISTRY_ENV", "prod")
    with pytest.raises(RuntimeError, match="refused in production"):
        passwords._profile()


def test_unknown_profile_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_ARGON2_PROFILE", "fast")
    with pytest.raises(RuntimeError, match="unknown"):
        passwords._profile()


def test_standard_profile_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRY_ARGON2_PROFILE")
    assert passwords._profile() == {}
