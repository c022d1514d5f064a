"""The engine's public face: every exported name resolves; the settings' constants load light."""

from __future__ import annotations

import subprocess
import sys

import linkage


def test_every_public_name_resolves() -> None:
    for name in linkage.__all__:
        assert getattr(linkage, name) is not None, name


def test_the_pairing_constants_load_without_pandas() -> None:
    code = "import sys, linkage; linkage.PAIR_BLOCK; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
