"""What users run today, as the benchmarks run it: one definition for every benchmark."""

from __future__ import annotations


def awswrangler_ingest(source: str, s3_path: str, **to_parquet: object) -> None:
    """pandas reads the JSON Lines whole, then awswrangler writes partitioned zstd Parquet.

    ``to_parquet`` adds arguments to ``wr.s3.to_parquet`` (e.g. ``database``, ``table``
    and ``mode`` to register the table in Glue as well).
    """
    import awswrangler as wr
    import pandas as pd

    df = pd.read_json(source, lines=True)
    ts = pd.to_datetime(df["ts"], utc=True)
    df["ts"] = ts.dt.tz_localize(None)  # naive UTC, as Athena stores timestamps
    df["year"] = ts.dt.strftime("%Y")
    df["month"] = ts.dt.strftime("%m")
    df["day"] = ts.dt.strftime("%d")
    wr.s3.to_parquet(df, path=s3_path, dataset=True, partition_cols=["year", "month", "day"], compression="zstd",
                     **to_parquet)
