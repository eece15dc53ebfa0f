#!/usr/bin/env python3
"""Writes pre-signed AllScale requests for wrk: one per line, tab-separated
METHOD, PATH, TIMESTAMP, NONCE, SIGNATURE, BODY (body JSON has no tabs or newlines).

    presign.py status KEY SECRET INTENT_ID COUNT > status.tsv
    presign.py create KEY SECRET - COUNT [PATH] > create.tsv

PATH (default /v1/checkout_intents) is the create path: the side-by-side runs send
/v1/checkout_intents/ to both servers, as the reference server routes only that spelling.

Signing happens before the run so the load generator spends nothing on HMAC; every request
has its own nonce, so none is refused as a replay."""
import base64
import hashlib
import hmac
import sys
import time
import uuid

kind, key, secret, intent, count = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4], int(sys.argv[5])
create_path = sys.argv[6] if len(sys.argv) > 6 else "/v1/checkout_intents"
timestamp = str(int(time.time()))
out = sys.stdout
for index in range(count):
    nonce = uuid.uuid4().hex
    if kind == "status":
        method, path, body = "GET", f"/v1/checkout_intents/{intent}/status", ""
    else:
        method, path = "POST", create_path
        body = '{"currency":44,"amount_cents":%d,"order_id":"bench-%s","user_id":"u%d"}' % (1000 + index % 9000, nonce[:12], index % 1000)
    canonical = "\n".join([method, path, "", timestamp, nonce, hashlib.sha256(body.encode()).hexdigest()])
    signature = "v1=" + base64.b64encode(hmac.new(secret, canonical.encode(), hashlib.sha256).digest()).decode()
    out.write("\t".join([method, path, timestamp, nonce, signature, body]) + "\n")
