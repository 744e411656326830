#!/usr/bin/env python3
"""Signs a delivery receipt as its provider does, with the provider's own library where one
exists, for the receipt tests: Tidings must accept what the real sender signs.

Usage:
  provider_sign.py twilio AUTH_TOKEN URL [NAME=VALUE ...]
      X-Twilio-Signature for a form-encoded status callback to URL (twilio's RequestValidator)
  provider_sign.py meta APP_SECRET < BODY
      X-Hub-Signature-256 for a Messenger webhook body (HMAC-SHA256 of the body, hex, as Meta
      documents it; Meta publishes no Python library for it)
  provider_sign.py standard WHSEC MSG_ID TIMESTAMP < BODY
      webhook-signature for a Standard Webhooks receipt (the standardwebhooks package)

Prints the header value on stdout.
"""

import hashlib
import hmac
import sys
from datetime import datetime, timezone


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "twilio":
        from twilio.request_validator import RequestValidator  # the official package, from PyPI

        params: dict[str, list[str] | str] = {}
        for pair in argv[3:]:
            name, _, value = pair.partition("=")
            params[name] = value
        print(RequestValidator(argv[1]).compute_signature(argv[2], params))
        return 0
    if len(argv) == 2 and argv[0] == "meta":
        body = sys.stdin.buffer.read()
        print("sha256=" + hmac.new(argv[1].encode(), body, hashlib.sha256).hexdigest())
        return 0
    if len(argv) == 4 and argv[0] == "standard":
        from standardwebhooks.webhooks import Webhook  # the official package, from PyPI

        body = sys.stdin.buffer.read()
        at = datetime.fromtimestamp(int(argv[3]), tz=timezone.utc)
        print(Webhook(argv[1]).sign(argv[2], at, body.decode("utf-8")))
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
