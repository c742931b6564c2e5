"""Property tests: any safe partition value survives Hive's folder escaping and a
scan; any value that could escape a folder is set aside, never taken as a partition."""

from __future__ import annotations

import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st

from lakekit.catalog.crawl import scan_paths

SAFE = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/\\="), min_size=1, max_size=20)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.tuples(SAFE, SAFE), min_size=1, max_size=5, unique=True))
def test_escaped_values_come_back_exactly(values):
    values = [v for v in values if ".." not in "".join(v) and not any(x in (".",) for x in v)]
    uris = [f"s3://b/t/a={urllib.parse.quote(a, safe='')}/b={urllib.parse.quote(b, safe='')}/part.parquet"
            for a, b in values]
    scan = scan_paths("s3://b/t", uris)
    assert sorted(f.partition_values for f in scan.files) == sorted(values)
    assert scan.ignored == []


@settings(max_examples=100, deadline=None)
@given(bad=st.sampled_from(["..", "%2F", "a%2Fb", "%2E%2E", "x%00", "%5C", "k%3Dv"]), good=SAFE)
def test_values_that_could_escape_are_set_aside(bad, good):
    good = good if ".." not in good and good != "." else "ok"
    uris = [f"/lake/t/p={bad}/f.parquet", f"/lake/t/p={urllib.parse.quote(good, safe='')}/g.parquet"]
    scan = scan_paths("/lake/t", uris)
    assert [f.partition_values for f in scan.files] == [(good,)]
    assert [i["uri"] for i in scan.ignored] == [uris[0]]
