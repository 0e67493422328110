"""Every Python block of README.md and docs/ runs, or its page says why not.

The blocks run through tests/docs/doc_pages.py; these tests keep the marks
honest: a mark is spelled right and gives its reason, a walk-through's steps
belong to a test that runs them, and pytest-markdown-docs sees the same
blocks as the marks do.
"""

from __future__ import annotations

import itertools
import re

from markdown_it import MarkdownIt
from pytest_markdown_docs.plugin import extract_fence_tests
from tests.docs.doc_blocks import ROOT, blocks_of, doc_pages

# Walk-throughs and the tests that run their steps.
WALK_THROUGHS = {
    "quickstart": "tests/docs/test_readme_first_steps.py",
    "layout1": "tests/docs/test_deployment_layouts.py",
    "layout2": "tests/docs/test_deployment_layouts.py",
    "goals": "tests/docs/test_goals_page.py",
}


def test_the_suite_collects_the_docs() -> None:
    testpaths = re.search(r"^testpaths = \[(.*)\]", (ROOT / "pyproject.toml").read_text(), re.M)
    assert testpaths and {'"README.md"', '"docs"'} <= set(testpaths[1].replace(" ", "").split(","))
    assert "tests.docs.doc_pages" in (ROOT / "conftest.py").read_text()


def test_a_comment_right_above_a_python_block_or_a_step_is_a_mark() -> None:
    """A misspelled mark would leave a fragment running, or a step out of its walk-through."""
    wrong = []
    parser = MarkdownIt("commonmark")
    for page in doc_pages():
        tokens = parser.parse(page.read_text(encoding="utf-8"))
        marked = {b.line: b for b in blocks_of(page) if b.marker}
        for above, token in itertools.pairwise(tokens):
            if token.type != "fence" or not token.map or above.type != "html_block":
                continue
            python = token.info.split()[:1] in (["py"], ["python"], ["python3"])
            if (python or "step" in above.content) and token.map[0] + 1 not in marked:
                wrong.append(f"{page.relative_to(ROOT)}:{token.map[0] + 1}: {above.content}")
    assert not wrong, "not a `doc-step: GROUP/STEP` or `not run: REASON` mark:\n" + "\n".join(wrong)


def test_a_block_left_out_says_why() -> None:
    for page in doc_pages():
        for block in blocks_of(page):
            if block.marker == "not run":
                assert block.is_python, f"{block.where}: only Python blocks run"
                assert len(block.argument.split()) >= 3, f"{block.where}: give the reason"


def test_every_walk_through_step_has_a_test() -> None:
    for page in doc_pages():
        for block in blocks_of(page):
            if block.marker == "doc-step":
                group = block.argument.split("/", 1)[0]
                assert group in WALK_THROUGHS, f"{block.where}: no test runs {block.argument}"
                test = (ROOT / WALK_THROUGHS[group]).read_text()
                assert f'steps("{group}")' in test


def test_the_runner_sees_the_blocks_the_marks_see() -> None:
    parser = MarkdownIt("commonmark")
    for page in doc_pages():
        ours = [b.line for b in blocks_of(page) if b.is_python and "notest" not in b.options]
        theirs = [
            t.start_line
            for t in extract_fence_tests(parser, page.read_text(encoding="utf-8"), 0, page)
        ]
        assert theirs == ours, page.relative_to(ROOT)
