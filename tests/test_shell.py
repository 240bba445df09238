"""Shell-aware reading of `run:` scripts: a command is a command word, not a substring."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.github.shell import Command, commands


def names(script: str) -> list[str]:
    return [c.name for c in commands(script)]


def find(script: str, name: str, first_line: int = 1) -> Command:
    return next(c for c in commands(script, first_line) if c.name == name)


@pytest.mark.parametrize(
    "script",
    [
        'echo "nix build"',
        "echo 'nix build .#x'",
        "echo nix",
        "grep -r 'nix build' .",
        "# nix build\necho hi  # nix build",
        "cat <<EOF\nnix build\nEOF",
        "cat <<'EOF' > build.sh\nnix build\nEOF",
        "printf '%s\\n' \"$(echo nix build)\"",
        "echo '$(nix build)'",
        "bash script.sh <<EOF\nnix build\nEOF",
        "npm run build:nix",
        "command -v nix || echo missing",
        "if ! command -V nix-build; then exit 1; fi",
        "type nix; which nix-shell; hash nix 2>/dev/null",
    ],
)
def test_no_nix_is_run(script: str) -> None:
    assert "nix" not in names(script)
    assert "nix-build" not in names(script)


@pytest.mark.parametrize(
    ("script", "wrapped_by"),
    [
        ("nix build .#default", ()),
        ("sudo nix build", ("sudo",)),
        ("sudo -u builder -E nix build", ("sudo",)),
        ("env X=1 NIX_CONFIG='x = y' nix build", ("env",)),
        ("X=1 nix build", ()),
        ("cd x && nix build", ()),
        ("false || nix build", ()),
        ("(cd sub; nix build)", ()),
        ("out=$(nix build --print-out-paths)", ()),
        ('echo "$(nix build)"', ()),
        ("echo `nix build`", ()),
        ("export P=$(nix build --no-link --print-out-paths)", ()),
        ("if nix build; then echo ok; fi", ()),
        ("for x in a b; do nix build .#$x; done", ()),
        ("case $x in a) nix build ;; esac", ()),
        ("f() { nix build; }", ()),
        ("! nix build", ()),
        ("time nix build", ("time",)),
        ("command nix build", ("command",)),
        ("timeout 30m nix build", ("timeout",)),
        ("nice -n 10 nix build", ("nice",)),
        ("nohup nix build &", ("nohup",)),
        ("echo .#a | xargs -n1 nix build", ("xargs",)),
        ("bash -c 'nix build'", ("bash",)),
        ('sh -ec "nix build"', ("sh",)),
        ("bash <<'EOF'\nnix build\nEOF", ("bash",)),
        ("sudo bash -e <<EOF\nnix build\nEOF", ("sudo", "bash")),
        ("nix build --json | jq .", ()),
        ("nix build > log 2>&1", ()),
        ("/nix/var/nix/profiles/default/bin/nix build", ()),
        ("nix build .#${{ matrix.package }}", ()),
    ],
)
def test_nix_is_run(script: str, wrapped_by: tuple[str, ...]) -> None:
    command = find(script, "nix")
    assert command.args[:1] == ("build",)
    assert command.wrapped_by == wrapped_by


@pytest.mark.parametrize(
    ("script", "inner", "wrapper"),
    [
        (
            "nix develop --command cargo build --release",
            ("cargo", "build", "--release"),
            "nix develop",
        ),
        ("nix develop .#ci -c make check", ("make", "check"), "nix develop"),
        (
            "nix shell nixpkgs#hello -c hello --greeting hi",
            ("hello", "--greeting", "hi"),
            "nix shell",
        ),
        ("nix-shell --run 'cargo test --workspace'", ("cargo", "test", "--workspace"), "nix-shell"),
        ('nix-shell -p jq --run "jq --version"', ("jq", "--version"), "nix-shell"),
        ("nix-shell shell.nix --command 'make test'", ("make", "test"), "nix-shell"),
    ],
)
def test_wrappers_are_unwrapped(script: str, inner: tuple[str, ...], wrapper: str) -> None:
    found = [c for c in commands(script) if c.words == inner]
    assert found, commands(script)
    assert found[0].wrapped_by == (wrapper,)
    # the wrapper itself is still a command of the script
    assert commands(script)[0].name in ("nix", "nix-shell")


def test_nested_wrappers_keep_their_chain() -> None:
    script = "nix develop --command bash -c 'sudo nix-store --gc'"
    store = find(script, "nix-store")
    assert store.wrapped_by == ("nix develop", "bash", "sudo")


def test_and_list_inside_nix_shell_run() -> None:
    got = [c.words for c in commands('nix-shell --run "cargo test && nix-build"')]
    assert ("cargo", "test") in got
    assert ("nix-build",) in got


def test_line_numbers_follow_the_script() -> None:
    script = (
        "echo start\n"  # 10
        "nix build \\\n"  # 11
        "  .#default \\\n"  # 12
        "  -L\n"  # 13
        "cat <<EOF\n"  # 14
        "nix-build ignored\n"  # 15
        "EOF\n"  # 16
        "out=$(nix eval --raw .#v)\n"  # 17
        "bash <<'SH'\n"  # 18
        "echo in heredoc\n"  # 19
        "nix-store -q\n"  # 20
        "SH\n"
    )
    got = {c.name: c.line for c in commands(script, 10)}
    assert got["nix"] in (11, 17)
    assert find(script, "nix", 10).line == 11
    assert find(script, "nix", 10).words == ("nix", "build", ".#default", "-L")
    assert [c.line for c in commands(script, 10) if c.name == "nix"] == [11, 17]
    assert "nix-build" not in got
    assert got["nix-store"] == 20


def test_line_continuation_joins_words() -> None:
    command = find("nix build \\\n  .#a \\\n  .#b\n", "nix")
    assert command.words == ("nix", "build", ".#a", ".#b")


def test_quotes_are_removed_from_literal_words() -> None:
    command = find("nix build '.#a' \".#b\" $'c'", "nix")
    assert command.words == ("nix", "build", ".#a", ".#b", "c")


def test_installer_pipe_is_seen() -> None:
    curl = find("curl -sSfL https://install.determinate.systems/nix | sh -s -- install", "curl")
    assert curl.piped_to == "sh"
    assert "https://install.determinate.systems/nix" in curl.args
    plain = find("curl -fsSL https://example.com/x.tgz -o x.tgz", "curl")
    assert plain.piped_to is None


def test_github_expressions_do_not_confuse_the_parser() -> None:
    script = 'if [ "${{ matrix.os }}" = "linux" ]; then\n  nix build ${{ inputs.flags }}\nfi'
    command = find(script, "nix", 1)
    assert command.line == 2
    multi_line = "echo ${{\n  matrix.os\n}}\nnix build"
    assert find(multi_line, "nix").line == 4


def test_malformed_scripts_do_not_crash() -> None:
    for script in ["if then fi (((", "echo 'unterminated", "cat <<EOF\nno end", "$(", "\\"]:
        assert isinstance(commands(script), list)


@pytest.mark.parametrize("first_line", [1, 7, 42])
@pytest.mark.parametrize(
    "script",
    [
        "nix build .#cli\ncat <<'EOF' > notes.txt\nnix build\nEOF\n"
        "bash <<EOF\nnix flake check\nEOF",
        "sudo env A=1 nix develop --command cargo build --release | tee log",
        "for f in a b; do\n  bash -c 'nix-store --gc'\ndone\nnix-shell --run 'make && make dist'",
    ],
)
def test_a_script_at_another_line_reads_as_parsed_there(script: str, first_line: int) -> None:
    from harness.github.shell import _parse

    parsed = _parse(script, first_line, 0)
    assert commands(script, first_line) == parsed
    assert [(c.stdin, c.stdin_line) for c in commands(script, first_line)] == [
        (c.stdin, c.stdin_line) for c in parsed
    ]


PIECES = st.sampled_from(["$", "{", "}", "{{", "}}", "${{", "a", " ", "\n", "${{ m }}"])


@given(st.lists(PIECES, max_size=14).map("".join))
def test_templates_slot_what_the_expression_pattern_finds(script: str) -> None:
    from harness.github.shell import _EXPRESSION, _template

    found = [m.group(0) for m in _EXPRESSION.finditer(script)]
    if any("\n" in expression for expression in found):
        assert _template(script) is None
        return
    slots = iter(range(len(found)))
    text = _EXPRESSION.sub(lambda m: f"__GHA_SLOT_{next(slots)}__", script)
    assert _template(script) == (text, tuple(e[3:-2] for e in found))


def test_commands_made_fast_are_commands() -> None:
    from harness.github.shell import _command

    fields = (("nix", "build"), 3, ("sudo",), "tee", "body", 4)
    fast, slow = _command(*fields), Command(*fields)
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert repr(fast) == repr(slow)
    assert type(fast) is type(slow) is Command
    assert fast._asdict() == slow._asdict()
    assert fast.name == "nix"
    assert fast.args == ("build",)
