"""Notifications through the generated Python bindings against the live server: devices,
preferences, the inbox and area broadcasts (the scenarios of the Kotlin NotificationsTest).

Run by scripts/lib/mobile-tests.sh (see test_bindings.py for the environment). Each test logs in
as people of its own (random fiscal codes); the server has no FCM configured, so pushes to the
registered tokens are dropped and the inbox is what is checked.
"""

import base64
import datetime
import random
import string
import unittest
import urllib.parse
import uuid

from test_bindings import base_url, sc, sm

GENOVA = "010025"
ARENZANO = "010001"

# Values of the characters in odd positions (1st, 3rd, …) for the fiscal code's check character.
_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def random_fiscal_code():
    """A valid fiscal code nobody else in the run uses (random letters, born in Genova D969)."""
    body = (
        "".join(random.choices(string.ascii_uppercase, k=6))
        + f"{random.randrange(100):02d}"
        + random.choice("ABCDEHLMPRST")
        + f"{random.randrange(1, 29):02d}"
        + "D969"
    )
    total = 0
    for index, char in enumerate(body):
        value = int(char) if char.isdigit() else ord(char) - ord("A")
        total += _ODD[value] if index % 2 == 0 else value
    return body + chr(ord("A") + total % 26)


def fcm_token():
    return f"fcm-{uuid.uuid4()}:APA91b-test"


def unique(text):
    return f"{text} {uuid.uuid4().hex[:8]}"


class Notifications(unittest.IsolatedAsyncioTestCase):
    async def logged_in(self, *roles):
        client = sm.SportelloClient(base_url(), None)
        await client.dev_login(random_fiscal_code(), list(roles))
        return client

    async def subscribed_citizen(self):
        client = await self.logged_in()
        await client.register_fcm_token(fcm_token(), [GENOVA])
        return client

    def assert_fields(self, caught, fields):
        self.assertEqual([e.field for e in caught.exception.errors], fields)

    async def test_a_citizen_registers_an_fcm_token_lists_it_and_removes_it(self):
        citizen = await self.logged_in()
        token = fcm_token()
        device = await citizen.register_fcm_token(token, [GENOVA])
        self.assertEqual(device.kind, "fcm")
        self.assertTrue(device.label.endswith(token[-6:]), device.label)
        age = datetime.datetime.now(datetime.timezone.utc) - device.created_at
        self.assertLess(abs(age.total_seconds()), 300)
        self.assertEqual(await citizen.devices(), [device])
        await citizen.register_fcm_token(token, [])
        self.assertEqual([d.id for d in await citizen.devices()], [device.id])
        self.assertEqual((await citizen.notification_preferences()).municipalities, [GENOVA])
        await citizen.remove_device(device.id)
        self.assertEqual(await citizen.devices(), [])
        with self.assertRaises(sm.SportelloError.NotFound):
            await citizen.remove_device(device.id)

    async def test_an_admins_alert_reaches_the_citizens_inbox_unread_until_read(self):
        citizen = await self.subscribed_citizen()
        admin = await self.logged_in("admin")
        subject = unique("Allerta arancione")
        accepted = await admin.broadcast([GENOVA], sm.Topic.ALERTS, subject, "Chiudere le finestre.")
        self.assertGreaterEqual(accepted.recipients, 1)
        self.assertGreaterEqual(accepted.pushes, 1)

        page = await citizen.inbox(None, None)
        self.assertEqual(page.unread, 1)
        self.assertIsNone(page.next_cursor)
        [message] = page.items
        self.assertEqual(message.subject, subject)
        self.assertEqual(sm.parse_topic(message.topic), sm.Topic.ALERTS)
        self.assertFalse(message.read)
        self.assertEqual(await citizen.inbox_message(message.id), message)

        push = sm.parse_push_data(
            {
                "id": "delivery-1",
                "message_id": message.id,
                "topic": "alerts",
                "url": f"it.genova.sportello://inbox/{message.id}",
            }
        )
        self.assertEqual(push.message_id, message.id)
        self.assertEqual(push.url, "it.genova.sportello://inbox/" + urllib.parse.quote(message.id, safe=""))
        await citizen.mark_read(push.message_id)
        after = await citizen.inbox(None, None)
        self.assertEqual(after.unread, 0)
        self.assertTrue(after.items[0].read)

    async def test_the_inbox_pages_newest_first_and_deletes(self):
        citizen = await self.subscribed_citizen()
        admin = await self.logged_in("admin")
        subjects = [unique(f"Avviso {n}") for n in range(1, 6)]
        for subject in subjects:
            await admin.broadcast([GENOVA], sm.Topic.ALERTS, subject, f"Testo di {subject}")
        seen, cursor, pages = [], None, 0
        while True:
            page = await citizen.inbox(cursor, 2)
            self.assertLessEqual(len(page.items), 2)
            self.assertEqual(page.unread, 5)
            seen += page.items
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        self.assertEqual(pages, 3)
        self.assertEqual([m.subject for m in seen], subjects[::-1])

        gone = seen[1]
        await citizen.delete_message(gone.id)
        remaining = await citizen.inbox(None, 10)
        self.assertEqual([m.id for m in remaining.items], [m.id for m in seen if m.id != gone.id])
        self.assertEqual(remaining.unread, 4)
        with self.assertRaises(sm.SportelloError.NotFound):
            await citizen.inbox_message(gone.id)

    async def test_preferences_round_trip(self):
        citizen = await self.logged_in()
        defaults = await citizen.notification_preferences()
        self.assertEqual(set(defaults.topics), set(sm.Topic))
        self.assertEqual(defaults.language, "it")
        self.assertIsNone(defaults.quiet_hours)

        wanted = sm.NotificationPreferences(
            topics=[sm.Topic.ALERTS, sm.Topic.PAYMENTS],
            language="en",
            quiet_hours=sc.QuietHours(start="22:00", end="07:00"),
            municipalities=[GENOVA, ARENZANO],
        )
        stored = await citizen.set_notification_preferences(wanted)
        self.assertEqual(stored.topics, [sm.Topic.ALERTS, sm.Topic.PAYMENTS])
        self.assertEqual(stored.language, "en")
        self.assertEqual(stored.quiet_hours, sc.QuietHours(start="22:00", end="07:00"))
        self.assertEqual(stored.municipalities, [ARENZANO, GENOVA])
        self.assertEqual(await citizen.notification_preferences(), stored)

        wanted.language = "fr"
        with self.assertRaises(sm.SportelloError.Validation) as caught:
            await citizen.set_notification_preferences(wanted)
        self.assert_fields(caught, ["language"])
        wanted.language = "en"
        wanted.quiet_hours = sc.QuietHours(start="25:00", end="07:00")
        with self.assertRaises(sm.SportelloError.Validation) as caught:
            await citizen.set_notification_preferences(wanted)
        self.assert_fields(caught, ["quiet_hours"])
        self.assertEqual(await citizen.notification_preferences(), stored)

    async def test_bad_tokens_are_validation_errors_naming_the_field(self):
        citizen = await self.logged_in()
        for token in ["", "has spaces in it"]:
            with self.assertRaises(sm.SportelloError.Validation) as caught:
                await citizen.register_fcm_token(token, [])
            self.assert_fields(caught, ["token"])
        with self.assertRaises(sm.SportelloError.Validation) as caught:
            await citizen.register_fcm_token(fcm_token(), ["099999"])
        self.assert_fields(caught, ["municipalities"])
        with self.assertRaises(sm.SportelloError.InvalidInput) as caught:
            await citizen.register_fcm_token(fcm_token(), ["01002x"])
        self.assertEqual(caught.exception.field, "istat_code")
        self.assertEqual(await citizen.devices(), [])
        with self.assertRaises(sm.SportelloError.Validation) as caught:
            await citizen.inbox(None, 0)
        self.assert_fields(caught, ["limit"])

    async def test_another_persons_message_is_not_found(self):
        owner = await self.subscribed_citizen()
        admin = await self.logged_in("admin")
        await admin.broadcast([GENOVA], sm.Topic.ALERTS, unique("Solo per chi abita a Genova"), "…")
        message = (await owner.inbox(None, None)).items[0]
        stranger = await self.logged_in()
        for call in (stranger.inbox_message, stranger.mark_read, stranger.delete_message):
            with self.assertRaises(sm.SportelloError.NotFound):
                await call(message.id)
        [device] = await owner.devices()
        with self.assertRaises(sm.SportelloError.NotFound):
            await stranger.remove_device(device.id)
        self.assertFalse((await owner.inbox_message(message.id)).read)

    async def test_only_admins_and_the_municipalitys_operators_broadcast(self):
        citizen = await self.logged_in()
        with self.assertRaises(sm.SportelloError.Forbidden):
            await citizen.broadcast([GENOVA], sm.Topic.ALERTS, "Allerta", "…")
        elsewhere = await self.logged_in(f"operator:{ARENZANO}:permits")
        with self.assertRaises(sm.SportelloError.Forbidden):
            await elsewhere.broadcast([GENOVA], sm.Topic.ALERTS, "Allerta", "…")
        operator = await self.logged_in(f"operator:{GENOVA}:permits")
        accepted = await operator.broadcast([GENOVA], sm.Topic.PERMITS, unique("Sportello chiuso"), "…")
        self.assertTrue(accepted.id)
        with self.assertRaises(sm.SportelloError.Validation) as caught:
            await operator.broadcast([GENOVA], sm.Topic.ALERTS, "", "…")
        self.assert_fields(caught, ["subject"])

    async def test_logged_out_calls_are_unauthorized_and_ids_are_checked_on_the_device(self):
        with self.assertRaises(sm.SportelloError.Unauthorized) as caught:
            await sm.SportelloClient(base_url(), None).inbox(None, None)
        self.assertEqual(caught.exception.code, "not-logged-in")
        citizen = await self.logged_in()
        with self.assertRaises(sm.SportelloError.InvalidInput) as caught:
            await citizen.inbox_message("")
        self.assertEqual(caught.exception.field, "id")
        # Sent percent-encoded as one path segment: it cannot reach another route.
        with self.assertRaises(sm.SportelloError.NotFound):
            await citizen.inbox_message("../devices")

    async def test_the_vapid_public_key_is_an_uncompressed_p256_point(self):
        key = await sm.SportelloClient(base_url(), None).vapid_public_key()
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        self.assertEqual(len(raw), 65)
        self.assertEqual(raw[0], 4)


class PushData(unittest.TestCase):
    def test_push_data_that_is_not_sportellos_is_refused(self):
        with self.assertRaises(sm.SportelloError.InvalidInput) as caught:
            sm.parse_push_data({"google.message_id": "0:123"})
        self.assertEqual(caught.exception.field, "id")
        linked = sm.parse_push_data({"id": "d", "url": "/inbox/abc-1", "subject": "Allerta"})
        self.assertEqual(linked.message_id, "abc-1")
        self.assertEqual(linked.url, "it.genova.sportello://inbox/abc-1")
        self.assertEqual(linked.subject, "Allerta")


if __name__ == "__main__":
    unittest.main()
