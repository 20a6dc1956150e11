"""A huge argument renders to a bounded, still-informative event payload."""
import json

from sdk.engine.rendering import MAX_RENDERED, render_parameters


def test_a_list_of_millions_of_items_renders_to_a_bounded_size_with_a_count_of_the_rest():
    rendered = render_parameters({"rows": list(range(3_000_000))})["rows"]
    assert len(json.dumps(rendered)) < 2 * MAX_RENDERED
    assert rendered[0] == 0 and rendered[-1].startswith("… ") and rendered[-1].endswith(" more")
    shown = len(rendered) - 1
    assert rendered[-1] == f"… {3_000_000 - shown} more"


def test_a_wide_dict_of_long_strings_renders_to_a_bounded_size():
    rendered = render_parameters({"d": {f"k{i}": "x" * 5_000 for i in range(10_000)}})["d"]
    assert len(json.dumps(rendered)) < 2 * MAX_RENDERED
    assert rendered["…"].endswith(" more")


def test_nested_lists_share_one_budget():
    rendered = render_parameters({"m": [[i] * 1_000 for i in range(1_000)]})["m"]
    assert len(json.dumps(rendered)) < 2 * MAX_RENDERED


def test_small_values_render_unchanged():
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": (1, 2)}}
    assert render_parameters({"v": value})["v"] == {"a": [1, 2.5, "x", None, True], "b": {"c": [1, 2]}}
