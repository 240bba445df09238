"""YAML with line numbers: keys as written, duplicate keys refused, every error located."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.yamlnodes import LList, LMap, YamlError, line_of_path, load, loads

WORKFLOW = """\
name: ci
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: [self-hosted, tinyland-nix]
    steps:
      - uses: actions/checkout@v4
      - run: |
          nix build
"""


def test_on_stays_a_string_key() -> None:
    doc = loads(WORKFLOW, "ci.yml")
    assert isinstance(doc, LMap)
    assert "on" in doc
    assert True not in doc  # type: ignore[comparison-overlap]
    assert doc.line_of("on") == 2
    assert doc["on"]["push"]["branches"] == ["main"]


def test_yaml11_booleans_are_strings_but_true_false_are_bool() -> None:
    doc = loads("a: yes\nb: off\nc: true\nd: False\ne: 'true'\nf: ~\ng: 0x10\nh: 1.5\ni: 1_000")
    assert doc == {
        "a": "yes",
        "b": "off",
        "c": True,
        "d": False,
        "e": "true",
        "f": None,
        "g": 16,
        "h": 1.5,
        "i": 1000,
    }


def test_lines_and_columns_of_keys_items_and_values() -> None:
    doc = loads(WORKFLOW, "ci.yml")
    build = doc["jobs"]["build"]
    assert build.line_of("runs-on") == 7
    assert build.line_of("steps") == 8
    steps = build["steps"]
    assert isinstance(steps, LList)
    assert [steps.line_of(0), steps.line_of(1)] == [9, 10]
    run_mark = steps[1].value_mark("run")
    assert run_mark.block and run_mark.line == 10
    assert build.value_mark("runs-on").column == 14
    assert build.line_of("missing") == build.mark.line == 7


def test_line_of_path_stops_at_the_deepest_existing_node() -> None:
    doc = loads(WORKFLOW)
    assert line_of_path(doc, ["jobs", "build", "steps", 1, "run"]) == 10
    assert line_of_path(doc, ["jobs", "build", "nope", 3]) == 6  # the `build:` key
    assert line_of_path(doc, []) == 1
    assert line_of_path(None, ["x"]) is None


def test_duplicate_key_names_both_lines() -> None:
    with pytest.raises(YamlError) as info:
        loads("jobs:\n  a:\n    x: 1\n    x: 2\n", "dup.yml")
    assert info.value.line == 4
    assert "duplicate key 'x'" in info.value.message
    assert "first at line 3" in info.value.message
    assert str(info.value).startswith("dup.yml:4: ")


def test_syntax_error_is_one_located_line() -> None:
    with pytest.raises(YamlError) as info:
        loads("a: [1, 2\nb: 3\n", "bad.yml")
    text = str(info.value)
    assert text.startswith("bad.yml:")
    assert info.value.line is not None
    assert "\n" not in text


def test_merge_keys_do_not_override_explicit_keys() -> None:
    doc = loads("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert doc["use"] == {"x": 1, "y": 3}
    assert doc["use"].line_of("x") == 1


def test_complex_keys_are_refused() -> None:
    with pytest.raises(YamlError, match="plain scalars"):
        loads("? [a, b]\n: 1\n", "k.yml")


def test_empty_document_is_none_and_scalars_pass_through() -> None:
    assert loads("# only a comment\n") is None
    assert loads("just text") == "just text"


def test_deep_nesting_is_refused_not_a_crash() -> None:
    text = "[" * 300 + "]" * 300
    with pytest.raises(YamlError, match="nests too deeply"):
        loads(text, "deep.yml")


def test_load_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(YamlError, match="cannot read"):
        load(tmp_path / "missing.yml", "missing.yml")
    binary = tmp_path / "bin.yml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(YamlError) as info:
        load(binary, "bin.yml")
    assert info.value.file == "bin.yml"


def test_quoted_scalars_stay_strings() -> None:
    doc = loads("a: '1'\nb: \"null\"\nc: 1\nd: null\n")
    assert doc == {"a": "1", "b": "null", "c": 1, "d": None}


def test_aliases_are_shared_not_expanded() -> None:
    doc = loads("a: &a [lol, lol]\nb: &b [*a, *a]\nc: [*b, *b]\n", "small.yml")
    assert doc["c"][0] is doc["b"]
    assert doc["b"][1] is doc["a"]


def test_an_alias_bomb_is_refused_at_its_anchor() -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for index, name in enumerate("bcdefghij"):
        previous = "abcdefghij"[index]
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    with pytest.raises(YamlError) as caught:
        loads("\n".join(levels), "laughs.yml")  # 9**10 leaves if expanded
    assert str(caught.value) == (
        "laughs.yml:4: YAML aliases expand to more than 10,000 nodes (an alias bomb?): refused"
    )


def test_anchored_steps_in_a_workflow() -> None:
    doc = loads("x: &step {run: nix build}\njobs:\n  a:\n    steps: [*step, *step]\n")
    steps = doc["jobs"]["a"]["steps"]
    assert steps == [{"run": "nix build"}, {"run": "nix build"}]
    assert steps[0].line_of("run") == 1


SHAPES = [
    "a: &x 1\nb: *x\nc: [*x, &y {k: v}, *y]\n",
    "b1: &b1 {x: 1}\nb2: &b2 {y: 2, x: 9}\nu:\n  <<: [*b1, *b2]\n  z: 0\n",
    "? &k a\n: 1\nb: *k\n",
    "a: !!int 5\nb: ! 5\nc: !foo 7\nd: !!bool yes\ne: !!float 1\nf: !!str 3\n",
    "a: 2001-12-14\nb: =\nc: .inf\nf: 0o17\nh: 1:20\ni: 1e3\nm: Yes\np: ''\nr: ~\nu: TRUE\n",
    "--- 1\n...\n",
    "---\n",
    "- a\n- - b\n  - c\n- {x: [1, 2, {y: z}]}\n",
    "k: |\n  block\nl: >-\n  folded\nm: 'single'\nn: \"dbl\\n\"\n",
    "a:\nb: \nplain: multi\n  line\n",
    "!!merge <<: {a: 1}\nb: 2\n",
    "a: &a\n  b: &b [1,2]\n  c: *b\nd: *a\ne: [*a, *b]\n",
    "1: one\ntrue: t\nnull: n\n3.5: f\n",
]


def _same(fast: object, composed: object) -> None:
    assert type(fast) is type(composed)
    if isinstance(fast, LMap) and isinstance(composed, LMap):
        assert list(fast) == list(composed)
        assert (fast.mark, fast.key_marks, fast.value_marks) == (
            composed.mark,
            composed.key_marks,
            composed.value_marks,
        )
        for key in fast:
            _same(fast[key], composed[key])
    elif isinstance(fast, LList) and isinstance(composed, LList):
        assert (len(fast), fast.mark, fast.item_marks) == (
            len(composed),
            composed.mark,
            composed.item_marks,
        )
        for one, other in zip(fast, composed, strict=True):
            _same(one, other)
    else:
        assert fast == composed


@pytest.mark.parametrize("text", SHAPES)
def test_the_event_reader_builds_what_the_composing_reader_builds(text: str) -> None:
    import yaml

    from harness import yamlnodes

    node = yaml.compose(text, Loader=yamlnodes._Loader)
    assert node is not None
    composed = yamlnodes._Builder("x.yml").build(node)
    _same(yamlnodes._fast(text), composed)


@pytest.mark.parametrize(
    "text",
    ["a: 1\na: 2\n", "a: *nope\n", "a: &x 1\nb: &x 2\n", "a: 1\n---\nb: 2\n", "a: &a [*a]\n"],
)
def test_the_event_reader_leaves_errors_to_the_composing_reader(text: str) -> None:
    from harness import yamlnodes

    with pytest.raises(yamlnodes._Unusual):
        yamlnodes._fast(text)
    with pytest.raises(YamlError):
        loads(text, "x.yml")
