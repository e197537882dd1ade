"""The layout decision 0001 makes: ``handlers/``, ``engagement/`` and ``scheduler/`` never import from
``bot/`` and never name a chat platform in their code (comments and docstrings may explain; contract
names such as ``owner_email`` and the ``CYSWLLT_SMTP_URL`` setting are fine). A platform lives in its
folder under ``bot/`` and registers itself there.

Where addresses still live in per-platform columns, a few files still name platforms: they are
listed here by name, so the list can only shrink — any other file that starts naming one fails."""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("handlers", "engagement", "scheduler")
PLATFORM = re.compile(r"slack|teams|smtp", re.IGNORECASE)
CONTRACT = re.compile(r"\bsmtp_url\b")
# Still reading the per-platform address columns (issue 13's address table is to remove them).
NOT_YET = {
    "handlers/dispatch.py", "handlers/boards.py", "handlers/digest.py", "handlers/notify.py",
    "engagement/digest/schedule.py", "engagement/admin_api.py",
}


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
    assert set(named) <= NOT_YET, {k: v[:3] for k, v in named.items() if k not in NOT_YET}
    assert "scheduler/jobs.py" not in named and "scheduler/worker.py" not in named
