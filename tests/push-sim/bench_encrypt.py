#!/usr/bin/env python3
"""Encrypts N Web Push payloads with pywebpush (aes128gcm, via http_ece) and prints the mean cost
per message in microseconds, for `scripts/bench push` to compare with Sportello's encryption."""

import base64
import os
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pywebpush import WebPusher


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    payload = sys.argv[2].encode() if len(sys.argv) > 2 else b"x" * 200
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    subscription = {
        "endpoint": "http://127.0.0.1/wp/bench",
        "keys": {"p256dh": base64.urlsafe_b64encode(key).rstrip(b"=").decode(),
                 "auth": base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()},
    }
    pusher = WebPusher(subscription)
    start = time.perf_counter()
    for _ in range(count):
        pusher.encode(payload, content_encoding="aes128gcm")
    elapsed = time.perf_counter() - start
    print("%.1f" % (elapsed / count * 1e6))


if __name__ == "__main__":
    main()
