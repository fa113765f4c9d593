"""Drives a SPID login end to end: Sportello -> the reference provider (`spid-cie-oidc`) -> back,
as the citizen's browser and the app would, and the refusals Sportello owes. Run by
tests/spid-cie-oidc/run, which starts everything and passes:

    login.py SPORTELLO_URL PROVIDER_ID ROGUE_PROVIDER_ID CIE_PROVIDER_ID USERNAME PASSWORD FISCAL_CODE DB

Prints one line per check and 'N passed, N failed' at the end; exits non-zero on any failure.
"""

import base64
import hashlib
import html.parser
import json
import secrets
import sqlite3
import sys
import urllib.parse

import requests

SPORTELLO, PROVIDER, ROGUE, CIE_PROVIDER, USERNAME, PASSWORD, FISCAL_CODE, DB = sys.argv[1:9]
APP_REDIRECT = "it.genova.sportello://auth"
TIMEOUT = 30
results = []


def check(name, ok, detail=""):
    ok = bool(ok)
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)}", flush=True)
    return ok


class Forms(html.parser.HTMLParser):
    """The forms of a page: action and the values of their inputs."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def forms(page):
    parser = Forms()
    parser.feed(page)
    return parser.forms


def pkce():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def start(provider, verifier_challenge, app_state="app-state-1", federation="spid"):
    _, challenge = verifier_challenge
    return requests.get(
        f"{SPORTELLO}/v1/auth/federation/{federation}/login",
        params={
            "provider": provider,
            "redirect_uri": APP_REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": app_state,
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def problem(response):
    try:
        return response.json()
    except ValueError:
        return {"raw": response.text[:300]}


def counts():
    """Rows Sportello stored that a refused login must not add to."""
    with sqlite3.connect(DB) as db:
        return {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("users", "authorization_codes")
        }


def provider_login(browser, authorization_url):
    """The citizen at the provider: the login form, then the consent. Returns the URL the
    provider sends the browser back to (Sportello's callback)."""
    page = browser.get(authorization_url, timeout=TIMEOUT)
    if not check("the provider shows its login form for Sportello's request object",
                 page.status_code == 200 and forms(page.text),
                 f"{page.status_code} {page.headers.get('location')} {page.text[:300]}"):
        return None
    form = forms(page.text)[0]
    fields = dict(form["fields"], username=USERNAME, password=PASSWORD)
    action = urllib.parse.urljoin(page.url, form["action"])
    answer = browser.post(action, data=fields, allow_redirects=False, timeout=TIMEOUT)
    if not check("the provider accepts the citizen's credentials", answer.status_code == 302,
                 f"{answer.status_code} {answer.text[:300]}"):
        return None
    consent = browser.get(urllib.parse.urljoin(action, answer.headers["location"]), timeout=TIMEOUT)
    if not check("the provider asks the citizen's consent", consent.status_code == 200 and forms(consent.text),
                 f"{consent.status_code} {consent.text[:300]}"):
        return None
    form = forms(consent.text)[0]
    answer = browser.post(urllib.parse.urljoin(consent.url, form["action"]), data=form["fields"],
                          allow_redirects=False, timeout=TIMEOUT)
    location = answer.headers.get("location", "")
    check("after consent the provider redirects to Sportello's callback with a code",
          answer.status_code == 302 and location.startswith(f"{SPORTELLO}/v1/auth/federation/callback?")
          and "code=" in location, f"{answer.status_code} {location}")
    return location


def main():
    # The providers are listed for the apps' SPID and CIE buttons, with the names and logos the
    # federation publishes (here one anchor serves both federations, so each lists both); the
    # rogue one, which the anchor does not list, is not.
    listed = requests.get(f"{SPORTELLO}/v1/auth/providers", timeout=TIMEOUT)
    entries = listed.json().get("federated", []) if listed.ok else []
    found = [e for e in entries if e.get("entity_id") == PROVIDER and e.get("federation") == "spid"]
    cie = [e for e in entries if e.get("entity_id") == CIE_PROVIDER and e.get("federation") == "cie"]
    check("GET /v1/auth/providers lists the federations' providers with their organization names and logos",
          len(found) == 1 and found[0].get("federation") == "spid"
          and found[0].get("name") == "Test SPID identity provider"
          and (found[0].get("logo_uri") or "").endswith("spid-logo-c-lb.svg")
          and len(cie) == 1 and cie[0].get("name") == "Test CIE identity provider"
          and all(e.get("entity_id") != ROGUE for e in entries),
          f"{listed.status_code} {entries}")

    # The happy path.
    before = counts()
    verifier = pkce()
    started = start(PROVIDER, verifier)
    location = started.headers.get("location", "")
    if not check("Sportello resolves the provider's trust chain and redirects with a request object",
                 started.status_code == 303 and location.startswith(f"{PROVIDER}/authorization?")
                 and "request=" in location, f"{started.status_code} {problem(started)}"):
        return
    browser = requests.Session()
    callback = provider_login(browser, location)
    if not callback:
        return
    back = requests.get(callback, allow_redirects=False, timeout=TIMEOUT)
    app_url = back.headers.get("location", "")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(app_url).query))
    if not check("Sportello's callback exchanges the code, verifies the tokens and the encrypted "
                 "userinfo, and sends the app a one-time code",
                 back.status_code == 303 and app_url.startswith(APP_REDIRECT) and "code" in query
                 and query.get("state") == "app-state-1", f"{back.status_code} {app_url} {back.text[:300]}"):
        return
    token = requests.post(f"{SPORTELLO}/v1/auth/token", timeout=TIMEOUT, json={
        "grant_type": "authorization_code", "code": query["code"], "code_verifier": verifier[0]})
    check("POST /v1/auth/token gives Sportello's tokens", token.status_code == 200
          and token.json().get("access_token"), f"{token.status_code} {token.text[:300]}")
    me = requests.get(f"{SPORTELLO}/v1/me", timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {token.json().get('access_token')}"})
    check("GET /v1/me shows the citizen's fiscal code from the provider",
          me.status_code == 200 and me.json().get("fiscal_code") == FISCAL_CODE,
          f"{me.status_code} {me.text[:300]}")
    after_login = counts()
    check("the login stored one person", after_login["users"] == before["users"] + 1,
          f"{before} -> {after_login}")
    pair = token.json()

    # Replays and forgeries: each refused with a problem, nothing stored.
    replay = requests.get(callback, allow_redirects=False, timeout=TIMEOUT)
    check("the provider's callback replayed (same code and state) is refused with a problem",
          replay.status_code == 400 and problem(replay).get("type", "").endswith("login-failed"),
          f"{replay.status_code} {problem(replay)}")
    again = requests.post(f"{SPORTELLO}/v1/auth/token", timeout=TIMEOUT, json={
        "grant_type": "authorization_code", "code": query["code"], "code_verifier": verifier[0]})
    check("Sportello's one-time code replayed is refused", again.status_code == 400
          and problem(again).get("type", "").endswith("invalid-grant"), f"{again.status_code} {problem(again)}")
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["code"]
    forged = requests.get(f"{SPORTELLO}/v1/auth/federation/callback", allow_redirects=False,
                          timeout=TIMEOUT, params={"code": code, "state": secrets.token_urlsafe(32)})
    check("a callback with a state Sportello never issued is refused with a problem",
          forged.status_code == 400 and problem(forged).get("type", "").endswith("login-failed"),
          f"{forged.status_code} {problem(forged)}")
    rogue = start(ROGUE, pkce())
    check("a provider not registered under the trust anchor is refused (403 provider-not-trusted)",
          rogue.status_code == 403 and problem(rogue).get("type", "").endswith("provider-not-trusted"),
          f"{rogue.status_code} {problem(rogue)}")
    check("the refused attempts stored nothing", counts() == after_login, f"{after_login} -> {counts()}")

    # Logout: Sportello revokes the provider's access token at its revocation endpoint
    # (private_key_jwt); the provider then refuses it at its own userinfo endpoint.
    with sqlite3.connect(DB) as db:
        kept = [row[0] for row in db.execute("SELECT access_token FROM provider_sessions")]
    userinfo = f"{PROVIDER}/userinfo"
    if check("Sportello kept the provider's access token of the session, and the provider honours it",
             len(kept) == 1 and requests.get(userinfo, timeout=TIMEOUT,
                                             headers={"Authorization": f"Bearer {kept[0]}"}).status_code == 200,
             kept):
        out = requests.post(f"{SPORTELLO}/v1/auth/logout", timeout=TIMEOUT,
                            json={"refresh_token": pair["refresh_token"]})
        refused = requests.get(userinfo, timeout=TIMEOUT, headers={"Authorization": f"Bearer {kept[0]}"})
        with sqlite3.connect(DB) as db:
            left = db.execute("SELECT count(*) FROM provider_sessions").fetchone()[0]
        check("logging out of Sportello revokes the token at the provider (its userinfo refuses it) "
              "and forgets it", out.status_code == 204 and refused.status_code == 403 and left == 0,
              f"logout {out.status_code}, userinfo {refused.status_code}, kept {left}")
        me_after = requests.get(f"{SPORTELLO}/v1/me", timeout=TIMEOUT,
                                headers={"Authorization": f"Bearer {pair['access_token']}"})
        check("Sportello's access token stops working at logout", me_after.status_code == 401,
              me_after.status_code)


def cie_login():
    """The same through the CIE federation, at the reference provider run with its CIE profile."""
    verifier = pkce()
    started = start(CIE_PROVIDER, verifier, "app-state-cie", federation="cie")
    location = started.headers.get("location", "")
    if not check("CIE: Sportello redirects to the CIE-profile provider with a request object",
                 started.status_code == 303 and location.startswith(f"{CIE_PROVIDER}/authorization?"),
                 f"{started.status_code} {problem(started)}"):
        return
    callback = provider_login(requests.Session(), location)
    if not callback:
        return
    back = requests.get(callback, allow_redirects=False, timeout=TIMEOUT)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back.headers.get("location", "")).query))
    token = requests.post(f"{SPORTELLO}/v1/auth/token", timeout=TIMEOUT, json={
        "grant_type": "authorization_code", "code": query.get("code", ""), "code_verifier": verifier[0]})
    me = requests.get(f"{SPORTELLO}/v1/me", timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {token.json().get('access_token', '') if token.ok else ''}"})
    check("CIE: the login ends with Sportello's tokens and GET /v1/me shows the fiscal code",
          back.status_code == 303 and query.get("state") == "app-state-cie" and token.status_code == 200
          and me.status_code == 200 and me.json().get("fiscal_code") == FISCAL_CODE,
          f"{back.status_code} {back.headers.get('location')} {token.status_code} {me.text[:200]}")


if __name__ == "__main__":
    try:
        main()
        cie_login()
    finally:
        passed = sum(results)
        failed = len(results) - passed
        print(f"spid-cie-oidc: {passed} passed, {failed} failed")
    sys.exit(0 if results and all(results) else 1)
