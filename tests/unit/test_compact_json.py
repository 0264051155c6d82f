"""Compact JSON text at any depth (policy JSON of a 100,000-deep policy)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cedarlang import PolicySet
from cedarlang.cedar_json import compact_json, compact_json_by_loop
from cedarlang.errors import PolicyJsonError
from cedarlang.est import policy_set_from_json, policy_set_to_json, policy_set_to_json_text

JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@given(JSON_DATA)
def test_the_loop_writes_what_json_dumps_writes(data: Any) -> None:
    assert compact_json_by_loop(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def test_deeper_than_the_recursion_limit() -> None:
    data: Any = 1
    for _ in range(50_000):
        data = {"a": [data]}
    text = compact_json(data)
    assert text == '{"a":[' * 50_000 + "1" + "]}" * 50_000


def test_a_100k_attribute_chain_is_written_as_json_text() -> None:
    pset = PolicySet.from_str("permit(principal, action, resource) when { context" + ".a" * 100_000 + " };")
    text = policy_set_to_json_text(pset)
    assert text.count('{".":{"left":') == 100_000
    # the structure reads back; text this deep is beyond Python's JSON reader (and Rust's,
    # whose serde stops at 128 levels): a clean error
    back = policy_set_from_json(policy_set_to_json(pset))
    assert [p.ast for p in back.policies()] == [p.ast for p in pset.policies()]
    with pytest.raises(PolicyJsonError, match="nested too deeply"):
        policy_set_from_json(text)
