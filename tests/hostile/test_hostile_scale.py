"""Hostile scale: a registry of ten thousand broken entries gives one clear item per entry and finishes."""

from __future__ import annotations

import json

from hostile_builders import HEALTHY, assert_contained, run_hostile
from plugin_builders import item_outcomes

BROKEN = 10_000


def test_ten_thousand_broken_entries_give_one_failing_item_each(pytester, hostile):
    path = hostile.write()
    document = json.loads(path.read_text())
    template = {key: value for key, value in document["models"][0].items() if key != "license"}
    document["models"] += [{**template, "id": f"bad{index:05d}"} for index in range(BROKEN)]
    path.write_text(json.dumps(document))
    run = run_hostile(pytester, hostile, write=False)
    assert_contained(run, "bad09999", "'license' is required from schema_version 1 on")
    outcomes = item_outcomes(run.result)
    broken = {name: outcome for name, outcome in outcomes.items() if not name.endswith(f"[{HEALTHY}]")}
    assert len(broken) == BROKEN
    assert set(broken.values()) == {"failed"}
