"""`stablegate client …` (AllScaleKit) against a running gateway, as a merchant would use it."""
import json
import os
import re
import subprocess
import time

from conftest import BINARY, ROOT, Gateway, cancel, run_cli


def credentials_env(gateway, merchant):
    """The environment with the merchant's credentials where `stablegate client` looks for them."""
    return {**os.environ, "ALLSCALE_BASE_URL": gateway.base_url, "ALLSCALE_API_KEY": merchant["api_key"], "ALLSCALE_API_SECRET": merchant["api_secret"]}


def client(gateway, merchant, *args, check=True, env_credentials=True):
    return run_cli("client", *args, env=credentials_env(gateway, merchant) if env_credentials else dict(os.environ), check=check)


def test_client_commands_against_a_live_gateway(tmp_path):
    gateway = Gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path).start()
    try:
        merchant = gateway.merchant()
        assert "accepted" in client(gateway, merchant, "ping").stdout

        created = json.loads(client(gateway, merchant, "create", "--stable-coin", "USDT", "--amount", "12.5", "--order-id", "CLI-1",
                                    "--idempotency-key", "CLI-1", "--json").stdout)
        intent_id = created["allscale_checkout_intent_id"]
        assert created["amount_coins"] == "12.50"
        # The checkout URL carries a capability token, not the (guessable) intent id.
        assert re.fullmatch(re.escape(gateway.base_url) + r"/checkout/[A-Za-z0-9_-]{24}", created["checkout_url"]), created["checkout_url"]
        assert intent_id not in created["checkout_url"]
        again = json.loads(client(gateway, merchant, "create", "--stable-coin", "USDT", "--amount", "12.5", "--order-id", "CLI-1",
                                  "--idempotency-key", "CLI-1", "--json").stdout)
        assert again["allscale_checkout_intent_id"] == intent_id, "the idempotency key returns the first intent"
        fiat = client(gateway, merchant, "create", "--currency", "eur", "--amount", "10").stdout
        assert "rate" in fiat and "checkout URL" in fiat

        assert client(gateway, merchant, "status", intent_id).stdout.strip() == "1 CREATED"
        full = json.loads(client(gateway, merchant, "get", intent_id, "--json").stdout)
        assert full["all_scale_checkout_intent_id"] == intent_id and full["order_id"] == "CLI-1" and full["status"] == 1

        # watch follows the intent until it ends; a cancel ends it (exit 1: not CONFIRMED).
        watch = subprocess.Popen([str(BINARY), "client", "watch", intent_id, "--timeout", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=credentials_env(gateway, merchant))
        time.sleep(1.5)
        cancel(gateway, intent_id)
        out, err = watch.communicate(timeout=60)
        assert watch.returncode == 1, (out, err)
        lines = out.strip().splitlines()
        assert lines[0].endswith("CREATED") and lines[-1].endswith("-4 CANCELED"), out

        # Credentials from a file; a refusal is one line with the code and request id, exit 2.
        credentials = tmp_path / "allscale.json"
        credentials.write_text(json.dumps({"base_url": gateway.base_url, "api_key": merchant["api_key"], "api_secret": "wrong"}))
        refused = client(gateway, merchant, "ping", "--credentials", str(credentials), check=False, env_credentials=False)
        assert refused.returncode == 2 and "20002" in refused.stderr and "request_id" in refused.stderr, refused.stderr
        missing = client(gateway, merchant, "status", "0123456789abcdef01234567", check=False)
        assert missing.returncode == 2 and "50001" in missing.stderr
        bad = client(gateway, merchant, "create", "--stable-coin", "USDT", "--amount", "1.234", check=False)
        assert bad.returncode != 0 and "at most 2 decimals" in bad.stderr
        none = run_cli("client", "ping", check=False, env={k: v for k, v in os.environ.items() if not k.startswith("ALLSCALE_")})
        assert none.returncode != 0 and "ALLSCALE_BASE_URL" in none.stderr
    finally:
        gateway.stop()


def test_the_readme_example_is_the_compiled_one():
    """The integration example in the README is Examples/MerchantIntegration/main.swift, which the
    build compiles (target allscale-example)."""
    example = (ROOT / "Examples" / "MerchantIntegration" / "main.swift").read_text()
    assert "```swift\n" + example + "```" in (ROOT / "README.md").read_text()
