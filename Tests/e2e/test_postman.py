"""The vendor's Postman collection (AllScale's own, kept byte for byte in Tests/e2e/postman), run unchanged against the built binary."""
import os
import subprocess

import pytest

from conftest import ROOT, backends

COLLECTION = ROOT / "Tests" / "e2e" / "postman" / "AllScale_OpenAPI.postman_collection.json"
RUNNER = ROOT / "Tests" / "e2e" / "postman" / "run-collection.js"


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_vendor_collection_passes_unchanged(gateway):
    merchant = gateway.merchant()
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs")
    result = subprocess.run(
        ["node", str(RUNNER), str(COLLECTION), f"base_url={gateway.base_url}",
         f"api_key={merchant['api_key']}", f"api_secret={merchant['api_secret']}"],
        capture_output=True, text=True, env=env, timeout=120)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary == "7 requests, 28 tests passed, 0 failed, 0 request errors"


def test_collection_fixture_is_the_seed_verbatim():
    """The committed collection is byte-for-byte the JSON fenced in seed 003, when the seed is at hand."""
    seed = ROOT.parent / "shared" / "seeds" / "003_dbfac0780c5d853d.txt"
    if not seed.exists():
        pytest.skip("seed 003 is not next to this checkout")
    text = seed.read_text(encoding="utf-8")
    start = text.index("```\n") + 4
    end = text.index("\n```", start)
    assert COLLECTION.read_text(encoding="utf-8") == text[start:end] + "\n"
