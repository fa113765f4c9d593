"""Bulk-loads N synthetic, published debt positions of Comune di Genova into a migrated Sportello
SQLite database (one option and one IBAN transfer each, notice numbers aux 3 / segregation 01 with
IUV bases 1..N, as the server would number them), and writes a sample of their notice numbers.

Usage: synth_positions.py DB_FILE N NOTICES_OUT [SAMPLE]
"""
import sqlite3
import sys
import time
import uuid

CREDITOR = "00856930102"
IBAN = "IT60X0542811101000000123456"


def notice(base):
    first16 = f"301{base:013d}"
    return f"{first16}{int(first16) % 93:02d}"


def main():
    db_file, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sample = int(sys.argv[4]) if len(sys.argv) > 4 else 100_000
    db = sqlite3.connect(db_file)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    now = int(time.time() * 1000)
    batch = 50_000
    for start in range(1, n + 1, batch):
        positions, options, transfers = [], [], []
        for base in range(start, min(start + batch, n + 1)):
            pid = str(uuid.UUID(int=base))
            nn = notice(base)
            iuv = nn[1:]
            debtor = "RSSMRA85T10A562S"
            positions.append((pid, "010025", CREDITOR, f"{CREDITOR}-BENCH-{base}", "VALID", "F", debtor, "Mario Rossi",
                              "Canone bench", now, 0, None, None, "bench", now, now))
            options.append((CREDITOR, nn, str(uuid.UUID(int=(1 << 64) + base)), pid, iuv, 0, 1000 + base % 9000,
                            "2099-12-31", "Canone bench"))
            transfers.append((CREDITOR, nn, 1, pid, 1000 + base % 9000, CREDITOR, "Canone bench", "9/0101108TS/", IBAN))
        db.executemany("INSERT INTO payment_positions (id, municipality, creditor, iupd, status, debtor_kind, debtor_id,"
                       " debtor_name, description, valid_from, switch_to_expired, origin_kind, origin_id, created_by,"
                       " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", positions)
        db.executemany("INSERT INTO payment_options (creditor, notice_number, id, position_id, iuv, instalment,"
                       " amount_cents, due_date, description) VALUES (?,?,?,?,?,?,?,?,?)", options)
        db.executemany("INSERT INTO payment_transfers (creditor, notice_number, id_transfer, position_id, amount_cents,"
                       " fiscal_code, remittance, category, iban) VALUES (?,?,?,?,?,?,?,?,?)", transfers)
        db.commit()
    db.execute("INSERT INTO payment_iuv_counters (creditor, segregation_code, last_base) VALUES (?, 1, ?)"
               " ON CONFLICT (creditor, segregation_code) DO UPDATE SET last_base = excluded.last_base", (CREDITOR, n))
    db.commit()
    db.execute("ANALYZE")
    db.close()
    step = max(1, n // sample)
    with open(out, "w") as f:
        for base in range(1, n + 1, step):
            f.write(notice(base) + "\n")


if __name__ == "__main__":
    main()
