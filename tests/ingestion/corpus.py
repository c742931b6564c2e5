"""Small real-shaped source files, written from generated data in the shapes people
hand over: spreadsheet CSVs, pandas and jq exports, delivery-stream output, web logs.

Each writer returns the path; the facts a test checks are computed from the source
with pandas or the csv/json modules, never from what lakekit wrote.
"""

from __future__ import annotations

import json
import random

PENGUIN_HEADER = ["studyName", "Sample Number", "Species", "Island", "Date Egg", "Culmen Length (mm)",
                  "Body Mass (g)", "Sex", "Comments"]


def penguins_csv(path, rows: int = 344, seed: int = 1, delimiter: str = ",", bom: bool = False,
                 crlf: bool = False) -> str:
    """palmerpenguins' raw shape: names with spaces and units, year/first dates, NA
    in text and numbers, quoted comments with commas and line breaks."""
    rng = random.Random(seed)
    nl = "\r\n" if crlf else "\n"
    out = [delimiter.join(PENGUIN_HEADER)]
    for i in range(rows):
        sex = rng.choice(["MALE", "FEMALE", "NA"])
        length = "NA" if i % 50 == 7 else f"{rng.uniform(32, 60):.1f}"
        mass = "NA" if i % 50 == 7 else str(rng.randint(2700, 6300))
        comment = rng.choice(["", "Nest never observed with full clutch.", '"Adult not sampled, bloody"',
                              '"Two lines:\nsecond line"', "NA"])
        date = f"{2007 + i % 3}/{1 + i % 12:02d}/{1 + i % 28:02d}"
        row = [f"PAL0{708 + i % 3}", str(i + 1), "Adelie Penguin (Pygoscelis adeliae)", rng.choice(["Torgersen", "Biscoe"]),
               date, length, mass, sex, comment]
        out.append(delimiter.join(row))
    text = nl.join(out) + nl
    with open(path, "wb") as f:
        f.write((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


def events(n: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append({
            "id": i,
            "ts": f"2024-03-{1 + i % 28:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
            "created_at": f"2024-02-{1 + i % 28:02d}T09:00:00+01:00",
            "zip": rng.choice(["02134", "10001", "00501", "94105"]),
            "amount": round(rng.uniform(0, 100), 2),
            "tags": [rng.choice(["a", "b", "c"]) for _ in range(rng.randint(0, 3))],
            "geo": {"lat": round(rng.uniform(-90, 90), 4), "lon": round(rng.uniform(-180, 180), 4)},
        })
    return out


def json_array(path, records: list[dict], indent: int | None = 2) -> str:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(records, f, indent=indent)
    return str(path)


def concatenated(path, records: list[dict], sep: str = "") -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.write(sep.join(json.dumps(r) for r in records))
    return str(path)


def jsonl(path, records: list[dict]) -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    return str(path)
