"""Permits through the generated Python bindings against the live server: the procedures a
municipality offers (core's records, as the apps get them), and a refusal the app can show
(`SportelloError.Refused`, not `Server`): a file that is not of an accepted type.

Run by scripts/lib/mobile-tests.sh (see test_bindings.py for the environment). Each test logs in
as people of its own (random fiscal codes).
"""

import unittest

from test_bindings import base_url, sc, sm
from test_notifications import random_fiscal_code

GENOVA = "010025"


class Permits(unittest.IsolatedAsyncioTestCase):
    async def test_procedures_are_cores_records(self):
        client = sm.SportelloClient(base_url(), None)
        procedures = await client.permit_procedures(GENOVA)
        scia = next(p for p in procedures if p.code == "scia")
        self.assertIsInstance(scia, sc.ProcedureInfo)
        self.assertEqual(scia.clock_days, 30)
        self.assertTrue(scia.effective_on_filing)
        self.assertTrue(any(d.required for d in scia.documents))
        self.assertTrue(scia.legal_basis)

    async def test_a_file_of_the_wrong_type_is_refused_with_code_and_detail(self):
        client = sm.SportelloClient(base_url(), None)
        await client.dev_login(random_fiscal_code(), [])
        draft = await client.create_permit(GENOVA, "scia", None)
        with self.assertRaises(sm.SportelloError.Refused) as caught:
            await client.upload_permit_document(draft.id, "drawings", "fake.pdf", b"MZ a program, not a document")
        self.assertEqual(caught.exception.status, 415)
        self.assertTrue(caught.exception.code)
        self.assertTrue(caught.exception.detail)


if __name__ == "__main__":
    unittest.main()
