"""The layout decision 0001 makes: ``handlers/``, ``engagement/`` and ``scheduler/`` never import from
``bot/`` and never name a chat platform in their code, nor by name in their comments and docstrings
(contract names such as ``owner_email``, the ``CYSWLLT_SMTP_URL`` setting and the admin API's and
members CSV's ``slack_…``/``teams_…`` fields are fine). A platform lives in its folder under ``bot/`` and registers
itself there (``cyswllt.platforms``); the neutral folders ask the registry. No file is excused."""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("handlers", "engagement", "scheduler")
PLATFORM = re.compile(r"slack|teams|smtp", re.IGNORECASE)
# Contract names (extended, never renamed): settings, CSV columns and API fields.
CONTRACT = re.compile(r"\b(smtp_url|slack_user_id|teams_user_id|slack_channel_id|teams_conversation_id)\b")


def code_words(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each name and string in the code, leaving out comments and docstrings."""
    source = path.read_text(encoding="utf-8")
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.add(body[0].lineno)
    words = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME or (token.type == tokenize.STRING and token.start[0] not in docstrings):
            words.append((token.start[0], token.string))
    return words


def test_the_neutral_folders_import_nothing_from_bot():
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "bot":
                    raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} imports from bot")
                if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "bot" for a in node.names):
                    raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} imports bot")


def test_the_neutral_folders_name_no_platform():
    named = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            found = [f"{line}: {text}" for line, text in code_words(path)
                     if PLATFORM.search(CONTRACT.sub("", text))]
            if found:
                named[where] = found
    assert named == {}, {k: v[:3] for k, v in named.items()}


PLATFORM_WORD = re.compile(r"\b(slack|teams)\b", re.IGNORECASE)  # a whole word: not slack_user_id


def test_the_neutral_folders_prose_names_no_platform():
    """Comments and docstrings explain the neutral code in its own terms (a platform, its sender, its
    registration), so what they say stays true when a platform is added or taken away."""
    named = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for folder in FOLDERS for path in sorted((ROOT / folder).rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if PLATFORM_WORD.search(line)]
    assert named == []


def test_the_test_would_see_a_platform_named():
    """The check itself: a name, a string and an import are caught; a docstring and a comment are not."""
    import tempfile

    source = ('"""Slack and Teams may be explained here."""\n# and here: teams\n'
              'ORDER = ["email"]\nCHART = {"slack": "upload"}\ndef teams_only(): pass\n')
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    found = [text for _, text in code_words(Path(handle.name)) if PLATFORM.search(CONTRACT.sub("", text))]
    Path(handle.name).unlink()
    assert found == ['"slack"', "teams_only"]
