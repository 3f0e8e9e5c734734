"""Verifies every DKIM-Signature of a message with dkimpy (Debian's python3-dkim), an
implementation independent of relais and of mailauth.

usage: verify-dkim.py '<json: {"sel._domainkey.example.com": "v=DKIM1; k=...; p=..."}>' < message.eml
Prints one JSON object per signature; exits 0 only when there is at least one and all verify.
"""
import json
import sys

import dkim

zone = {name.lower().rstrip("."): value for name, value in json.loads(sys.argv[1]).items()}
queries = []


def dnsfunc(name, timeout=5):
    key = name.decode("ascii").lower().rstrip(".")
    queries.append(key)
    value = zone.get(key)
    return None if value is None else value.encode("ascii")


message = sys.stdin.buffer.read()
verifier = dkim.DKIM(message)
count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
results = []
for index in range(count):
    try:
        ok = bool(verifier.verify(idx=index, dnsfunc=dnsfunc))
        error = None
    except dkim.DKIMException as exc:
        ok, error = False, str(exc)
    fields = verifier.signature_fields or {}
    results.append(
        {
            "index": index,
            "ok": ok,
            "algorithm": fields.get(b"a", b"").decode(),
            "selector": fields.get(b"s", b"").decode(),
            "error": error,
        }
    )
print(json.dumps({"results": results, "queries": queries}))
sys.exit(0 if results and all(r["ok"] for r in results) else 1)
