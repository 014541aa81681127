"""The pages' renderer (functions.pages): the policy allows exactly the shipped style sheet and script,
every value is escaped, a missing one is an error, no HTML is built in Python, and the functions that
render no page never load Jinja2."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from functions import pages
from functions.review.choices import Choices, Problem
from functions.review.page import form_page, status_page
from functions.review.results import FormPage, Preview
from functions.tiktok.models import CreatorInfo

REPO = Path(__file__).resolve().parents[2]
CREATOR = CreatorInfo(
    creator_username="pub",
    creator_nickname="Pub",
    privacy_level_options=["PUBLIC_TO_EVERYONE", "SELF_ONLY"],
    max_video_post_duration_sec=60,
)
ATTACK = "</textarea><script>alert('x')</script>"


def _form(**changes: object) -> str:
    page = FormPage(
        preview=Preview(kind="video", urls=["https://media.example/a.mp4"], duration_seconds=3.0),
        creator=CREATOR,
        options=CREATOR.privacy_level_options,
        expires_at=1_800_000_000,
        **changes,  # type: ignore[arg-type]
    )
    return form_page(page)[0]


def test_the_policy_allows_exactly_the_shipped_style_sheet_and_script() -> None:
    policy = pages.headers()["Content-Security-Policy"]
    for name in ("style.css", "review.js"):
        assert pages.sha256_source((pages.TEMPLATES / name).read_bytes()) in policy, name
    assert f"style-src {pages.STYLE_SOURCE};" in policy and f"script-src {pages.SCRIPT_SOURCE};" in policy
    assert "unsafe-inline" not in policy and policy.startswith("default-src 'none';")
    # The page carries each file byte for byte, so the hash holds for what the browser reads.
    html = _form()
    assert f"<style>{(pages.TEMPLATES / 'style.css').read_text()}</style>" in html
    assert f"<script>{(pages.TEMPLATES / 'review.js').read_text()}</script>" in html


def test_a_changed_byte_changes_the_hash(tmp_path: Path) -> None:
    copy = tmp_path / "style.css"
    shutil.copyfile(pages.TEMPLATES / "style.css", copy)
    assert pages.sha256_source(copy.read_bytes()) == pages.STYLE_SOURCE
    changed = bytearray(copy.read_bytes())
    changed[-2] ^= 0x01
    copy.write_bytes(bytes(changed))
    assert pages.sha256_source(copy.read_bytes()) != pages.STYLE_SOURCE


def test_every_value_is_escaped_on_the_review_page() -> None:
    html = _form(
        choices=Choices(caption=ATTACK),
        problems=[Problem("caption", ATTACK)],
        blockers=[Problem("creator", 'a "quoted" <b>reason</b>')],
        facts=[ATTACK],
    )
    assert html.count("<script>") == 1  # ours only
    assert "&lt;/textarea&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</textarea>" in html
    assert 'data-blocked="a &quot;quoted&quot; &lt;b&gt;reason&lt;/b&gt;"' in html
    status, _ = status_page({"status": "FAILED", "fail_detail": ATTACK, "history": [{"note": ATTACK}]})
    assert "<script>" not in status and ATTACK not in status


def test_the_connect_pages_escape_what_tiktok_returns() -> None:
    html = pages.render(
        "connect/connected.html",
        display_name="<img src=x>",
        username="u",
        account_id="a",
        posting_paused="",
    )
    assert "<img" not in html and "Connected: &lt;img src=x&gt;" in html


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(jinja2.UndefinedError, match="posting_paused"):
        pages.render("connect/connected.html", display_name="d", username="u", account_id="a")
    with pytest.raises(jinja2.UndefinedError):
        pages.render("review/refused.html")


def test_every_template_compiles() -> None:
    env = pages.environment()
    names = [n for n in env.list_templates() if n.endswith(".html")]
    assert {"base.html", "connect/connected.html", "review/form.html", "review/status.html"} <= set(names)
    for name in names:
        env.get_template(name)


def _string_literals(path: Path) -> list[str]:
    """The module's string constants, docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("package", ["accounts", "review", "handlers"])
def test_no_html_is_built_in_python(package: str) -> None:
    # HTML elements, not route parameters such as /review/<token>.
    tag = re.compile(
        r"</?(!doctype|html|head|body|main|section|div|span|p|a|h[1-6]|ul|ol|li|form|input|label|select|option"
        r"|textarea|button|fieldset|legend|img|video|script|style|meta|title|strong|code|time)\b",
        re.IGNORECASE,
    )
    found = [
        (str(path.relative_to(REPO)), literal)
        for path in sorted((REPO / "functions" / package).rglob("*.py"))
        for literal in _string_literals(path)
        if tag.search(literal)
    ]
    assert found == []


# Handlers that render pages; every other one (webhooks, workflow steps, the API) must not load Jinja2.
PAGE_HANDLERS = {"review", "oauth"}
HANDLERS = sorted(
    p.stem for p in (REPO / "functions" / "handlers").glob("*.py") if p.stem not in {"__init__", "step"}
)


@pytest.mark.parametrize("handler", HANDLERS)
def test_only_the_page_handlers_load_jinja2(handler: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys, functions.handlers.{handler}; print('jinja2' in sys.modules)"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == str(handler in PAGE_HANDLERS)
