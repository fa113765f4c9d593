#!/usr/bin/env python3
"""A local simulator of the push services Sportello talks to, for tests and benchmarks.

Web Push (RFC 8030): endpoints at /wp/<id>. Every request's VAPID JWT (RFC 8292) is verified
with the public key it names, its headers are checked, and its body is decrypted with
`http_ece` (an independent aes128gcm implementation), using subscription keys this simulator
generated. FCM HTTP v1: a token endpoint that verifies the RS256 JWT assertion with the service
account's public key, and a send endpoint that plays FCM's answers.

Usage: push_sim.py --service-account FILE [--port 0] [--no-decrypt]
Prints `READY <base url>` on stdout when listening on 127.0.0.1. Control API (JSON):
  POST /control/webpush {"count": N, "behavior": "ok|gone|retry-after-once|unavailable-once|bad-request"}
       -> {"subscriptions": [{"endpoint", "keys": {"p256dh", "auth"}}]}
  GET  /control/received -> {"webpush": {id: [payload...]}, "fcm": {token: [message...]},
                             "rejected": [reason...], "attempts": {id_or_token: n}}
  POST /control/reset
"""

import argparse
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

LOCK = threading.Lock()
STATE = {
    "subs": {},        # id -> {"private": key, "auth": bytes, "behavior": str}
    "webpush": {},     # id -> [payload dict]
    "fcm": {},         # token -> [message dict]
    "rejected": [],
    "attempts": {},
    "tokens": set(),   # FCM access tokens issued
}
DECRYPT = True


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def reject(reason):
    with LOCK:
        STATE["rejected"].append(reason)


def count_attempt(key):
    with LOCK:
        STATE["attempts"][key] = STATE["attempts"].get(key, 0) + 1
        return STATE["attempts"][key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "push-sim"

    def log_message(self, *args):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, payload=None, headers=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def origin(self):
        return "http://%s:%d" % self.server.server_address[:2]

    # ---- control -------------------------------------------------------------------------
    def do_GET(self):
        if self.path == "/control/received":
            with LOCK:
                snapshot = {
                    "webpush": STATE["webpush"],
                    "fcm": STATE["fcm"],
                    "rejected": STATE["rejected"],
                    "attempts": STATE["attempts"],
                }
                return self.reply(200, snapshot)
        if self.path == "/control/counts":
            with LOCK:
                total = sum(len(v) for v in STATE["webpush"].values()) + sum(len(v) for v in STATE["fcm"].values())
                return self.reply(200, {"delivered": total, "devices": len(STATE["webpush"]) + len(STATE["fcm"]),
                                        "rejected": len(STATE["rejected"])})
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        body = self.body()
        if self.path == "/control/webpush":
            return self.create_subscriptions(json.loads(body or b"{}"))
        if self.path == "/control/reset":
            with LOCK:
                for key in ("webpush", "fcm", "attempts"):
                    STATE[key] = {}
                STATE["rejected"] = []
            return self.reply(204)
        if self.path.startswith("/wp/"):
            return self.web_push(self.path[len("/wp/"):], body)
        if self.path == "/token":
            return self.fcm_token(body)
        if self.path.startswith("/v1/projects/") and self.path.endswith("/messages:send"):
            return self.fcm_send(body)
        self.reply(404, {"error": "not found"})

    def create_subscriptions(self, request):
        subscriptions = []
        for _ in range(int(request.get("count", 1))):
            private = ec.generate_private_key(ec.SECP256R1())
            public = private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
            auth = os.urandom(16)
            sub_id = b64url(os.urandom(12))
            with LOCK:
                STATE["subs"][sub_id] = {"private": private, "auth": auth,
                                         "behavior": request.get("behavior", "ok")}
            subscriptions.append({"endpoint": self.origin() + "/wp/" + sub_id,
                                  "keys": {"p256dh": b64url(public), "auth": b64url(auth)}})
        self.reply(200, {"subscriptions": subscriptions})

    # ---- Web Push ------------------------------------------------------------------------
    def web_push(self, sub_id, body):
        with LOCK:
            sub = STATE["subs"].get(sub_id)
        if sub is None:
            return self.reply(404)
        attempt = count_attempt(sub_id)
        problem = self.check_vapid() or self.check_headers()
        if problem:
            reject("%s: %s" % (sub_id, problem))
            return self.reply(400 if "header" in problem else 401, {"error": problem})
        behavior = sub["behavior"]
        if behavior == "gone":
            return self.reply(410)
        if behavior == "bad-request":
            return self.reply(400, {"error": "bad request"})
        if behavior == "retry-after-once" and attempt == 1:
            return self.reply(429, headers={"Retry-After": "1"})
        if behavior == "unavailable-once" and attempt == 1:
            return self.reply(503)
        payload = {"undecrypted": len(body)}
        if DECRYPT:
            try:
                plaintext = http_ece.decrypt(body, private_key=sub["private"], auth_secret=sub["auth"],
                                             version="aes128gcm")
                payload = json.loads(plaintext)
            except Exception as error:  # noqa: BLE001 - any failure is a rejection to report
                reject("%s: decrypt: %r" % (sub_id, error))
                return self.reply(400, {"error": "cannot decrypt"})
        payload["_headers"] = {"TTL": self.headers.get("TTL"), "Urgency": self.headers.get("Urgency"),
                               "Topic": self.headers.get("Topic")}
        with LOCK:
            STATE["webpush"].setdefault(sub_id, []).append(payload)
        self.reply(201, headers={"Location": self.origin() + "/msg/" + b64url(os.urandom(8))})

    def check_vapid(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("vapid "):
            return "missing vapid authorization"
        params = dict(part.strip().split("=", 1) for part in header[len("vapid "):].split(","))
        try:
            public_bytes = b64url_decode(params["k"])
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_bytes)
            claims = jwt.decode(params["t"], key=public, algorithms=["ES256"], audience=self.origin(),
                                options={"require": ["exp", "aud", "sub"]})
        except Exception as error:  # noqa: BLE001
            return "vapid: %r" % (error,)
        if claims["exp"] > time.time() + 24 * 3600:
            return "vapid exp more than 24 h ahead"
        if not (claims["sub"].startswith("mailto:") or claims["sub"].startswith("https:")):
            return "vapid sub is not mailto: or https:"
        return None

    def check_headers(self):
        if self.headers.get("Content-Encoding") != "aes128gcm":
            return "header Content-Encoding must be aes128gcm"
        ttl = self.headers.get("TTL")
        if ttl is None or not ttl.isdigit():
            return "header TTL missing or not a number"
        if self.headers.get("Urgency") not in (None, "very-low", "low", "normal", "high"):
            return "header Urgency invalid"
        topic = self.headers.get("Topic")
        if topic is not None and (len(topic) > 32 or not all(c.isalnum() or c in "-_" for c in topic)):
            return "header Topic invalid"
        return None

    # ---- FCM -----------------------------------------------------------------------------
    def fcm_token(self, body):
        from urllib.parse import parse_qs
        form = parse_qs(body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return self.reply(400, {"error": "unsupported_grant_type"})
        try:
            claims = jwt.decode(form["assertion"][0], key=self.server.service_account_public,
                                algorithms=["RS256"], audience=self.origin() + "/token",
                                options={"require": ["exp", "iat", "iss", "aud"]})
        except Exception as error:  # noqa: BLE001
            reject("fcm assertion: %r" % (error,))
            return self.reply(400, {"error": "invalid_grant"})
        if claims.get("scope") != "https://www.googleapis.com/auth/firebase.messaging":
            reject("fcm scope: %r" % claims.get("scope"))
            return self.reply(400, {"error": "invalid_scope"})
        token = b64url(os.urandom(24))
        with LOCK:
            STATE["tokens"].add(token)
        self.reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def fcm_send(self, body):
        bearer = self.headers.get("Authorization", "")[len("Bearer "):]
        with LOCK:
            known = bearer in STATE["tokens"]
        if not known:
            reject("fcm send without a valid access token")
            return self.reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        message = json.loads(body)["message"]
        token = message["token"]
        attempt = count_attempt(token)
        if token.startswith("unregistered-"):
            return self.reply(404, {"error": {"code": 404, "status": "NOT_FOUND", "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})
        if token.startswith("invalid-"):
            return self.reply(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}})
        if token.startswith("ratelimit-") and attempt == 1:
            return self.reply(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}},
                              headers={"Retry-After": "1"})
        if token.startswith("unavailable-") and attempt == 1:
            return self.reply(503, {"error": {"code": 503, "status": "UNAVAILABLE"}})
        with LOCK:
            STATE["fcm"].setdefault(token, []).append(message)
        self.reply(200, {"name": "projects/sim/messages/%s" % b64url(os.urandom(8))})


def main():
    global DECRYPT
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--service-account", required=True,
                        help="where to write the FCM service-account key the server should use")
    parser.add_argument("--no-decrypt", action="store_true", help="skip decryption (benchmarks)")
    args = parser.parse_args()
    DECRYPT = not args.no_decrypt

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 1024
    base = "http://127.0.0.1:%d" % server.server_address[1]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server.service_account_public = key.public_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    with open(args.service_account, "w") as out:
        json.dump({"type": "service_account", "project_id": "sportello-sim", "private_key_id": "sim-key-1",
                   "private_key": pem, "client_email": "sportello@sportello-sim.iam.gserviceaccount.com",
                   "token_uri": base + "/token"}, out)
    print("READY " + base, flush=True)
    # Exit when the parent closes our stdin, so a crashed test leaves nothing behind.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
