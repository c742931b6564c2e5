"""Athena's billing arithmetic at its edges: MB rounding, the 10 MB minimum, price per TB."""

from __future__ import annotations

import pytest

from lakekit.errors import BudgetExceeded
from lakekit.plan import MB, MIN_BILLED_BYTES, TB, Estimate, TableEstimate, billed_bytes, check_budget, cost_usd


@pytest.mark.parametrize(
    "scanned, billed",
    [
        (0, 10 * MB),               # the minimum is per query, even when nothing is read
        (1, 10 * MB),
        (10 * MB - 1, 10 * MB),
        (10 * MB, 10 * MB),
        (10 * MB + 1, 11 * MB),     # one byte over rounds up a whole MB
        (11 * MB, 11 * MB),
        (TB - 1, TB),
        (TB + 1, TB + MB),
    ],
)
def test_rounding_and_minimum(scanned, billed):
    assert billed_bytes(scanned) == billed


def test_terabyte_is_two_to_the_forty():
    assert TB == 1_099_511_627_776
    assert cost_usd(TB) == 5.0
    assert cost_usd(TB, price_per_tb=6.25) == 6.25
    assert cost_usd(MIN_BILLED_BYTES) == pytest.approx(5.0 * 10 / 1024 / 1024)


def test_scans_add_up_before_rounding():
    # two scans of 6 MB each bill 12 MB, not 2 x 10 MB
    scan = TableEstimate("db.t", 1, 1, 1, 1, ("x",), 6 * MB)
    est = Estimate.from_tables([scan, scan])
    assert (est.bytes_scanned, est.bytes_billed) == (12 * MB, 12 * MB)
    assert est.cost_usd == pytest.approx(12 * MB * 5.0 / TB)


def test_budget_is_inclusive():
    est = Estimate.from_tables([TableEstimate("db.t", 1, 1, 1, 1, ("x",), TB)], price_per_tb=5.0)
    check_budget(est, 5.0)  # exactly at the budget runs
    with pytest.raises(BudgetExceeded) as info:
        check_budget(est, 4.99)
    assert info.value.exit_code == 3
