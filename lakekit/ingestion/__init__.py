"""Ingestion: raw records in, a partitioned Parquet table out, nothing lost.

The stages, one module each: :mod:`.sources` (find and open inputs, cut them into
blocks) -> :mod:`.parse` (blocks to Arrow, bad records to rejects) -> :mod:`.schema`
(conform to the table's types) -> :mod:`.pipeline` (threads that run the stages) ->
:mod:`.writer` (partitioned Parquet files in staging) -> :mod:`.commit` (the catalog
commit and the moves into place); :mod:`.run` orchestrates one ingest.
"""
