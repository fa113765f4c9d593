"""The generated Python bindings of sportello-mobile against a live `sportello` server.

Standard library only. Run by scripts/lib/mobile-tests.sh, which generates the bindings
(scripts/bindings), starts `sportello serve --dev-auth --demo` (and, when Node is available, the test
OpenID provider of tests/oidc-provider wired in as provider `test`) and sets:

  SPORTELLO_TEST_BASE_URL       the server, e.g. http://127.0.0.1:41234 (required)
  SPORTELLO_TEST_OIDC_PROVIDER  id of the provider for the browser-login tests (optional)
  SPORTELLO_BINDINGS_DIR        the generated bindings (default: build/bindings)

    python3 -m unittest discover -s tests/python -v
"""

import asyncio
import http.cookiejar
import os
import pathlib
import socket
import sys
import unittest
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINDINGS = pathlib.Path(os.environ.get("SPORTELLO_BINDINGS_DIR", ROOT / "build" / "bindings"))
sys.path.insert(0, str(BINDINGS / "python"))

import sportello_core as sc  # noqa: E402  (core's wire types the apps use as they are)
import sportello_mobile as sm  # noqa: E402  (the path above comes first)

CITIZEN = "RSSMRA85T10A562S"
GENOVA = sc.Coordinates(lat=44.4072, lon=8.9338)
CHIAVARI = sc.Coordinates(lat=44.3172, lon=9.3224)
APP_REDIRECT = "it.genova.sportello://auth"


def base_url():
    url = os.environ.get("SPORTELLO_TEST_BASE_URL")
    if not url:
        raise RuntimeError("SPORTELLO_TEST_BASE_URL is not set: run scripts/lib/mobile-tests.sh")
    return url


def free_port():
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder(sm.SessionListener):
    """Keeps every snapshot the client reports (None for logged out)."""

    def __init__(self):
        self.snapshots = []

    def on_session_changed(self, snapshot):
        self.snapshots.append(snapshot)


class PureFunctions(unittest.TestCase):
    """Core's pure functions, no server involved."""

    def test_fiscal_codes_are_validated_and_normalised(self):
        self.assertEqual(sm.parse_fiscal_code(" rssmra85t10a562s "), CITIZEN)
        self.assertTrue(sm.is_valid_fiscal_code(CITIZEN))
        self.assertFalse(sm.is_valid_fiscal_code("RSSMRA85T10A562T"))
        with self.assertRaises(sm.SportelloError.InvalidInput) as caught:
            sm.parse_fiscal_code("RSSMRA85T10A562T")
        self.assertEqual(caught.exception.field, "fiscal_code")

    def test_istat_codes_and_roles(self):
        self.assertEqual(sm.parse_istat_code("010025"), "010025")
        self.assertFalse(sm.is_valid_istat_code("01002x"))
        role = sm.parse_role("operator:010025:permits")
        self.assertEqual(role, sm.Role.OPERATOR(municipality="010025", office=sm.Office.PERMITS))
        self.assertEqual(str(role), "operator:010025:permits")
        self.assertTrue(sm.parse_role("admin").is_admin())
        with self.assertRaises(sm.SportelloError.InvalidInput):
            sm.parse_role("operator:010025:zoo")

    def test_distance_genova_chiavari_is_about_31_km(self):
        distance = sm.distance_km(GENOVA, CHIAVARI)
        self.assertAlmostEqual(distance, 31, delta=1.5)
        with self.assertRaises(sm.SportelloError.InvalidInput):
            sm.distance_km(GENOVA, sc.Coordinates(lat=95.0, lon=0.0))


class LiveServer(unittest.IsolatedAsyncioTestCase):
    """The API client against the server the runner started."""

    def client(self, language=None):
        return sm.SportelloClient(base_url(), language)

    async def test_providers_say_dev_login_is_on(self):
        providers = await self.client().providers()
        self.assertTrue(providers.dev_login)
        expected = os.environ.get("SPORTELLO_TEST_OIDC_PROVIDER")
        if expected:
            self.assertIn(expected, [p.id for p in providers.items])

    async def test_lists_the_67_municipalities_with_genova(self):
        municipalities = await self.client().municipalities()
        self.assertEqual(len(municipalities), 67)
        genova = next(m for m in municipalities if m.istat_code == "010025")
        self.assertEqual(genova.name, "Genova")
        self.assertEqual(genova.belfiore_code, "D969")
        self.assertEqual(genova.fiscal_code, "00856930102")
        self.assertEqual(genova.ipa_code, "c_d969")
        self.assertEqual(genova.province, "GE")
        self.assertGreater(genova.population, 500_000)
        self.assertAlmostEqual(genova.location.lat, 44.4, delta=0.2)
        self.assertEqual(await self.client().municipality("010025"), genova)

    async def test_ranks_municipalities_on_the_device(self):
        municipalities = await self.client().municipalities()
        ranked = sm.rank_municipalities_by_distance(municipalities, CHIAVARI, 3)
        self.assertEqual(len(ranked), 3)
        self.assertEqual(ranked[0].municipality.name, "Chiavari")
        self.assertLess(ranked[0].distance_km, 3)
        distances = [r.distance_km for r in sm.rank_municipalities_by_distance(municipalities, GENOVA)]
        self.assertEqual(distances, sorted(distances))
        self.assertEqual(len(distances), 67)

    async def test_unknown_municipality_is_not_found_in_the_clients_language(self):
        with self.assertRaises(sm.SportelloError.NotFound) as caught:
            await self.client().municipality("099999")
        self.assertEqual(caught.exception.code, "municipality-not-found")
        self.assertIn("Nessun comune", caught.exception.detail)
        with self.assertRaises(sm.SportelloError.NotFound) as caught:
            await self.client("en").municipality("099999")
        self.assertIn("No municipality", caught.exception.detail)

    async def test_malformed_istat_code_is_refused_on_the_device(self):
        with self.assertRaises(sm.SportelloError.InvalidInput) as caught:
            await self.client().municipality("01002x")
        self.assertEqual(caught.exception.field, "istat_code")

    async def test_a_bad_fiscal_code_is_a_validation_error_with_the_field(self):
        with self.assertRaises(sm.SportelloError.Validation) as caught:
            await self.client().dev_login("RSSMRA85T10A562X", [])
        self.assertEqual(caught.exception.code, "validation")
        self.assertEqual([e.field for e in caught.exception.errors], ["fiscal_code"])

    async def test_dev_login_then_me(self):
        client = self.client()
        self.assertFalse(client.is_logged_in())
        state = await client.dev_login(CITIZEN, ["operator:010025:permits"])
        self.assertTrue(state.logged_in and client.is_logged_in())
        self.assertIsNotNone(state.access_token_expires_at)
        me = await client.me()
        self.assertEqual(me.fiscal_code, CITIZEN)
        self.assertEqual(
            me.roles,
            [sm.Role.CITIZEN(), sm.Role.OPERATOR(municipality="010025", office=sm.Office.PERMITS)],
        )

    async def test_refresh_rotates_and_a_replay_ends_the_session(self):
        client = self.client()
        recorder = Recorder()
        client.set_session_listener(recorder)
        await client.dev_login(CITIZEN)
        first = client.session_snapshot().refresh_token
        await client.refresh()
        second = client.session_snapshot().refresh_token
        self.assertNotEqual(first, second)
        self.assertEqual([s.refresh_token for s in recorder.snapshots], [first, second])
        self.assertEqual((await client.me()).fiscal_code, CITIZEN)
        # A stale copy of the first token (an old backup, a thief) is refused, and the server
        # ends the whole session: this client notices at its next call.
        stale = self.client()
        stale.restore_session(first)
        with self.assertRaises(sm.SportelloError.Unauthorized) as caught:
            await stale.me()
        self.assertEqual(caught.exception.code, "invalid-grant")
        with self.assertRaises(sm.SportelloError.Unauthorized):
            await client.me()
        self.assertFalse(client.is_logged_in())
        self.assertIsNone(recorder.snapshots[-1])

    async def test_a_restored_session_renews_once_for_concurrent_calls(self):
        seed = self.client()
        await seed.dev_login(CITIZEN)
        stored = seed.session_snapshot().refresh_token
        client = self.client()
        recorder = Recorder()
        client.set_session_listener(recorder)
        client.restore_session(stored)
        results = await asyncio.gather(*(client.me() for _ in range(5)))
        self.assertEqual({me.fiscal_code for me in results}, {CITIZEN})
        # One renewal only: a second one would have replayed `stored` and ended the session.
        self.assertEqual(len(recorder.snapshots), 2, recorder.snapshots)
        self.assertNotEqual(recorder.snapshots[-1].refresh_token, stored)

    async def test_logout_ends_the_session(self):
        client = self.client()
        recorder = Recorder()
        client.set_session_listener(recorder)
        await client.dev_login(CITIZEN)
        token = client.session_snapshot().refresh_token
        await client.logout()
        self.assertFalse(client.is_logged_in())
        self.assertIsNone(recorder.snapshots[-1])
        with self.assertRaises(sm.SportelloError.Unauthorized) as caught:
            await client.me()
        self.assertEqual(caught.exception.code, "not-logged-in")
        client.restore_session(token)
        with self.assertRaises(sm.SportelloError.Unauthorized):
            await client.me()

    async def test_a_server_that_is_down_is_a_network_error(self):
        client = sm.SportelloClient(f"http://127.0.0.1:{free_port()}", None)
        with self.assertRaises(sm.SportelloError.Network):
            await client.municipalities()
        client.restore_session("some-refresh-token")
        with self.assertRaises(sm.SportelloError.Network):
            await client.me()
        self.assertTrue(client.is_logged_in())

    async def test_a_bad_base_url_is_refused(self):
        with self.assertRaises(sm.SportelloError.InvalidInput) as caught:
            sm.SportelloClient("ftp://example.org", None)
        self.assertEqual(caught.exception.field, "base_url")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """The system browser, as far as the login needs one: cookies, no automatic redirects, and
    the test provider's login form filled in."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def _open(self, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(url, data=data, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as response:
            return response.code, response.headers, response.read()

    def login(self, url, fiscal_code=None, given_name="Giulia", family_name="Bianchi"):
        """Follows the login from the server's URL until the app's redirect; at the provider's
        form submits `fiscal_code`, or aborts when it is None."""
        for _ in range(20):
            if url.startswith(APP_REDIRECT):
                return url
            status, headers, body = self._open(url)
            path = urllib.parse.urlsplit(url).path
            if status == 200 and path.startswith("/interaction/"):
                if fiscal_code is None:
                    status, headers, body = self._open(url + "/abort", {})
                else:
                    form = {"fiscal_code": fiscal_code, "given_name": given_name, "family_name": family_name}
                    status, headers, body = self._open(url + "/login", form)
            if status not in (302, 303) or "Location" not in headers:
                raise AssertionError(f"{url}: unexpected {status}: {body[:300]!r}")
            url = urllib.parse.urljoin(url, headers["Location"])
        raise AssertionError("too many redirects")


@unittest.skipUnless(os.environ.get("SPORTELLO_TEST_OIDC_PROVIDER"), "no OpenID provider configured")
class BrowserLogin(unittest.IsolatedAsyncioTestCase):
    """The citizen login through the system browser, with a real OpenID provider."""

    async def test_login_through_the_browser_and_the_app_redirect(self):
        client = sm.SportelloClient(base_url(), None)
        request = client.begin_login(os.environ["SPORTELLO_TEST_OIDC_PROVIDER"], APP_REDIRECT)
        self.assertIn("code_challenge_method=S256", request.url)
        redirect = Browser().login(request.url, fiscal_code="bncgli90a41d969j")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query)
        self.assertEqual(query["state"], [request.state])
        state = await client.complete_login(redirect)
        self.assertTrue(state.logged_in)
        me = await client.me()
        self.assertEqual(me.fiscal_code, "BNCGLI90A41D969J")
        self.assertEqual((me.given_name, me.family_name), ("Giulia", "Bianchi"))
        self.assertEqual(me.roles, [sm.Role.CITIZEN()])
        # The code is single-use and the login is over.
        with self.assertRaises(sm.SportelloError.LoginFailed) as caught:
            await client.complete_login(redirect)
        self.assertEqual(caught.exception.reason, "no_login_in_progress")

    async def test_a_forged_redirect_is_refused_and_a_cancel_is_reported(self):
        client = sm.SportelloClient(base_url(), None)
        request = client.begin_login(os.environ["SPORTELLO_TEST_OIDC_PROVIDER"], APP_REDIRECT)
        with self.assertRaises(sm.SportelloError.LoginFailed) as caught:
            await client.complete_login(f"{APP_REDIRECT}?code=stolen&state=guessed")
        self.assertEqual(caught.exception.reason, "state_mismatch")
        redirect = Browser().login(request.url, fiscal_code=None)
        with self.assertRaises(sm.SportelloError.LoginFailed) as caught:
            await client.complete_login(redirect)
        self.assertEqual(caught.exception.reason, "access_denied")
        self.assertFalse(client.is_logged_in())


if __name__ == "__main__":
    unittest.main()
