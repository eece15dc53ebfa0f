"""A Python client generated from the served /openapi.json with openapi-python-client, used as a
merchant using a generator would: every request signed (docs/WIRE-CONTRACT.md §2) in an httpx request event hook,
every operation of the document called against a live gateway, and the typed replies checked."""
import base64
import hashlib
import hmac
import importlib
import os
import subprocess
import sys
import time
import typing
import uuid
from pathlib import Path

import attrs
import pytest

from conftest import backends, signature

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def generate(gateway, directory):
    """Runs the generator on the gateway's /openapi.json and imports the package it writes."""
    name = "stablegate_client_" + uuid.uuid4().hex[:8]
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # its ruff post-hooks
    result = subprocess.run(
        [str(GENERATOR), "generate", "--url", gateway.base_url + "/openapi.json", "--meta", "none",
         "--output-path", str(directory / name)],
        capture_output=True, text=True, env=env, cwd=directory, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output and "Unable to" not in output, f"the document generates cleanly:\n{output}"
    sys.path.insert(0, str(directory))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(directory))


def module(package, path):
    return importlib.import_module(f"{package.__name__}.{path}")


def signing_hook(key, secret):
    """An httpx request event hook: the signature of docs/WIRE-CONTRACT.md §2.2 over what goes on the wire — the raw
    path and query of the URL httpx built, and the body bytes it encoded."""
    def sign(request):
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        timestamp, nonce = str(int(time.time())), str(uuid.uuid4())
        request.headers.update({"X-API-Key": key, "X-Timestamp": timestamp, "X-Nonce": nonce,
                                "X-Signature": signature(secret, request.method, path, query, timestamp, nonce, request.read())})
    return sign


def test_the_hook_signs_like_conftest():
    """The hook's signature for a known request is the one conftest's reference computes by hand."""
    import httpx
    request = httpx.Request("POST", "http://gw.example/v1/test/post?a=1&b=%2F", json={"x": 1})
    signing_hook("sgk_test", "sgs_secret")(request)
    body = request.read()
    canonical = "\n".join(["POST", "/v1/test/post", "a=1&b=%2F", request.headers["X-Timestamp"], request.headers["X-Nonce"],
                           hashlib.sha256(body).hexdigest()])
    expected = "v1=" + base64.b64encode(hmac.new(b"sgs_secret", canonical.encode(), hashlib.sha256).digest()).decode()
    assert request.headers["X-Signature"] == expected and request.headers["X-API-Key"] == "sgk_test"


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_every_operation_through_a_generated_client(gateway, tmp_path):
    merchant = gateway.merchant()
    client_package = generate(gateway, tmp_path)
    models = module(client_package, "models")
    ping, fail, echo = (module(client_package, f"api.test.{name}") for name in ("ping", "fail", "echo"))
    create, get, status = (module(client_package, f"api.checkout_intents.{name}")
                           for name in ("create_checkout_intent", "get_checkout_intent", "get_checkout_intent_status"))

    # The create operation's body is typed: one model per pricing mode, not Any.
    body_type = typing.get_type_hints(create.sync_detailed)["body"]
    assert set(typing.get_args(body_type)) == {models.CreateCheckoutIntentFiatRequest, models.CreateCheckoutIntentStableCoinRequest}, body_type
    fiat_fields = set(attrs.fields_dict(models.CreateCheckoutIntentFiatRequest))
    coin_fields = set(attrs.fields_dict(models.CreateCheckoutIntentStableCoinRequest))
    assert {"currency", "amount_cents"} <= fiat_fields and "stable_coin" not in fiat_fields
    assert {"stable_coin", "amount_cents"} <= coin_fields and "currency" not in coin_fields
    assert [m.name for m in models.CheckoutStatus] == [
        "FAILED", "REJECTED", "UNDERPAID", "CANCELED", "TIMEOUT", "CREATED", "PAYING", "TEMP_WALLET_RECEIVED",
        "PENDING_MANUAL_OPERATION", "SEND_BACK", "ON_CHAIN", "CONFIRMED"]

    client = client_package.Client(base_url=gateway.base_url, raise_on_unexpected_status=True,
                                   httpx_args={"event_hooks": {"request": [signing_hook(merchant["api_key"], merchant["api_secret"])]}})

    def ok(response, payload_type):
        """A 200 success envelope parsed into the operation's typed model."""
        assert response.status_code == 200, response.content
        parsed = response.parsed
        assert parsed.code == 0 and parsed.error is None and parsed.request_id == response.headers["X-Request-Id"]
        assert isinstance(parsed.payload, payload_type), type(parsed.payload)
        return parsed.payload

    def refused(response, status_code, code):
        """An error envelope parsed into ErrorEnvelope."""
        assert response.status_code == status_code, response.content
        parsed = response.parsed
        assert isinstance(parsed, models.ErrorEnvelope) and parsed.code == code and parsed.payload is None, parsed
        assert parsed.error.message and parsed.request_id == response.headers["X-Request-Id"]
        return parsed

    with client as client:
        assert ok(ping.sync_detailed(client=client), models.PingResponse200Payload).pong == "ok"
        refused(fail.sync_detailed(client=client), 400, models.ErrorEnvelopeCode.VALUE_10001)
        sent = {"order": "GEN-1", "lines": [1, 2.5, None], "nested": {"ok": True}}
        assert ok(echo.sync_detailed(client=client, body=sent), models.EchoResponse200Payload).your_request_body == sent

        # Fiat pricing, with the optional members and an Idempotency-Key.
        fiat_request = models.CreateCheckoutIntentFiatRequest(
            currency=models.FiatCurrency(44), amount_cents=1999, order_id="GEN-FIAT-1", user_id="u-1", user_name="Ada",
            order_description="Two items\nfrom the generated client", redirect_url="https://shop.example/return",
            extra=models.CreateCheckoutIntentFiatRequestExtraType0.from_dict({"sku": "A-1", "qty": [1, 2]}),
            accepted_stable_coins=[models.CreateCheckoutIntentFiatRequestAcceptedStableCoinsType0Item(2)])
        created = ok(create.sync_detailed(client=client, body=fiat_request, idempotency_key="GEN-FIAT-1"), models.CreatedCheckoutIntent)
        assert created.stable_coin_type == models.StableCoin(2), "the first accepted coin settles a fiat price"
        assert created.rate is not None and float(created.rate) > 0 and float(created.amount_coins) > 0.1
        assert created.checkout_url.startswith(gateway.base_url + "/checkout/")
        fiat_id, fiat_rate = created.allscale_checkout_intent_id, created.rate
        replayed = create.sync_detailed(client=client, body=fiat_request, idempotency_key="GEN-FIAT-1")
        assert ok(replayed, models.CreatedCheckoutIntent).allscale_checkout_intent_id == fiat_id
        assert replayed.headers.get("Idempotent-Replayed") == "true"

        # Native stable-coin pricing.
        coin_request = models.CreateCheckoutIntentStableCoinRequest(
            stable_coin=models.CreateCheckoutIntentStableCoinRequestStableCoin(1), amount_cents=1250, order_id="GEN-COIN-1",
            accepted_stable_coins=[models.CreateCheckoutIntentStableCoinRequestAcceptedStableCoinsType0Item(v) for v in (1, 2)])
        created = ok(create.sync_detailed(client=client, body=coin_request), models.CreatedCheckoutIntent)
        assert created.amount_coins == "12.50" and created.stable_coin_type == models.StableCoin(1) and created.rate is None
        coin_id = created.allscale_checkout_intent_id
        assert coin_id != fiat_id

        # A business-rule refusal comes back typed too (coin amount ≤ 0.1).
        too_small = models.CreateCheckoutIntentStableCoinRequest(stable_coin=models.CreateCheckoutIntentStableCoinRequestStableCoin(1), amount_cents=5)
        refused(create.sync_detailed(client=client, body=too_small), 422, models.ErrorEnvelopeCode.VALUE_50002)

        full = ok(get.sync_detailed(fiat_id, client=client), models.CheckoutIntent)
        assert full.all_scale_checkout_intent_id == fiat_id and full.status == models.CheckoutStatus.CREATED
        assert full.currency == models.FiatCurrency(44) and full.currency_symbol == "EUR" and full.amount_cents == 1999
        assert full.currency_rate == fiat_rate and full.amount_coins == ok(replayed, models.CreatedCheckoutIntent).amount_coins
        assert full.order_id == "GEN-FIAT-1" and full.user_id == "u-1" and full.user_name == "Ada"
        assert full.order_description == "Two items\nfrom the generated client" and full.redirect_url == "https://shop.example/return"
        assert full.extra.to_dict() == {"sku": "A-1", "qty": [1, 2]}
        assert full.stable_coin_type == models.StableCoin(2) and full.accepted_stable_coins == [models.StableCoin(2)]
        assert full.payment_method_type == models.PaymentMethodType(0) and full.tx_hash is None
        assert full.created_at.tzinfo is not None and full.checkout_url.startswith(gateway.base_url + "/checkout/")

        full = ok(get.sync_detailed(coin_id, client=client), models.CheckoutIntent)
        assert full.all_scale_checkout_intent_id == coin_id and full.amount_coins == "12.50" and full.coin_symbol == "USDT"
        assert full.currency is None and full.currency_symbol is None and full.amount_cents is None and full.currency_rate is None
        assert full.accepted_stable_coins == [models.StableCoin(1), models.StableCoin(2)] and full.extra is None

        for intent_id in (fiat_id, coin_id):
            assert ok(status.sync_detailed(intent_id, client=client), models.CheckoutStatus) == models.CheckoutStatus.CREATED
        refused(status.sync_detailed("0123456789abcdef01234567", client=client), 404, models.ErrorEnvelopeCode.VALUE_50001)
        refused(get.sync_detailed("0123456789abcdef01234567", client=client), 404, models.ErrorEnvelopeCode.VALUE_50001)

    # Without the merchant's secret, the same generated client is refused, and says so typed.
    wrong = client_package.Client(base_url=gateway.base_url, raise_on_unexpected_status=True,
                                  httpx_args={"event_hooks": {"request": [signing_hook(merchant["api_key"], "sgs_wrong")]}})
    with wrong as wrong:
        refused(ping.sync_detailed(client=wrong), 401, models.ErrorEnvelopeCode.VALUE_20002)
