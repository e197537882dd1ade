"""Text a user typed is never a format template: in engagement/ and cyswllt/ the only ``str.format`` is the
catalogue's (on its own trusted entries), and nothing formats with ``%``, ``format_map``,
``string.Template`` or a ``Formatter`` on anything else. Citizen text full of format fields goes through
the form, the API, analysis, the admin export and a digest unchanged, and costs nothing to show."""

import ast
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from cyswllt.app import create_app
from cyswllt.settings import Settings
from engagement.worker import AnalysisWorker
from tests.engagement_api.conftest import seed_consultation

ROOT = Path(__file__).resolve().parents[2]
# Where a format call is allowed: the catalogue formats its own entries with the caller's values.
ALLOWED = {("cyswllt/i18n.py", "t")}
TEMPLATES = ["{x:>500000000}", "{0}{1}", "{text}", "%(x)s %s %d", "{x.__class__.__mro__}", "{{ 7*7 }}", "{!r}"]


def format_calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                functions.setdefault(id(inner), node.name)
    for node in ast.walk(tree):
        where = functions.get(id(node), "<module>")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            literal = isinstance(node.func.value, ast.Constant)
            if name in ("format", "format_map", "vformat") and not literal:
                yield where, name, node.lineno
            if name in ("substitute", "safe_substitute"):
                yield where, name, node.lineno
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Template":
            yield where, "Template", node.lineno
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and not isinstance(node.left, ast.Constant):
            if not (isinstance(node.left, ast.Name | ast.Attribute | ast.Call | ast.BinOp) and _numeric(node)):
                yield where, "%", node.lineno


def _numeric(node: ast.BinOp) -> bool:
    """``a % b`` with a number on the right is arithmetic, not formatting."""
    right = node.right
    return isinstance(right, ast.Constant) and isinstance(right.value, int | float) or \
        isinstance(right, ast.Name | ast.Attribute | ast.Call | ast.BinOp)


def test_only_the_catalogue_formats_strings():
    found = []
    for folder in ("engagement", "cyswllt"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for where, name, line in format_calls(path):
                if (relative, where) not in ALLOWED:
                    found.append(f"{relative}:{line} {name} in {where}")
    assert found == [], "format calls on a string that is not a literal:\n" + "\n".join(found)


async def test_format_fields_in_citizen_text_stay_plain_text(db, database_url):
    await seed_consultation(db)
    app = create_app(Settings(database_url=database_url, scheduler_enabled=False, outbox_enabled=False,
                              analysis_enabled=False, admin_token="tok", CYSWLLT_RATE_LIMIT="1000/minute"), db=db)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    admin = {"Authorization": "Bearer tok"}
    try:
        async with aiohttp.ClientSession() as http:
            started = time.perf_counter()
            for template in TEMPLATES:
                body = {"text": f"Buses {template} are late", "answers": {"q1": template}, "name": "Siân Jones",
                        "anonymous": False, "group": "bws-young"}
                async with http.post(f"{base}/api/v1/consultations/bws/responses", json=body) as r:
                    assert r.status == 201, await r.text()
            await AnalysisWorker(db).analyse_pending()
            async with http.get(f"{base}/api/v1/admin/consultations/bws/responses", headers=admin) as r:
                items = (await r.json())["items"]
            assert sorted(i["text"] for i in items) == sorted(f"Buses {t} are late" for t in TEMPLATES)
            assert sorted(i["answers"]["q1"] for i in items) == sorted(TEMPLATES)
            async with http.get(f"{base}/api/v1/admin/consultations/bws/responses.csv", headers=admin) as r:
                csv = await r.text()
            assert all(f"Buses {t} are late" in csv.replace('""', '"') for t in TEMPLATES)
            entry = {"theme": "{x:>500000000}", "you_said_en": "{0}", "you_said_cy": "%(x)s",
                     "we_did_en": "{text}", "we_did_cy": "{x.__class__}"}
            async with http.post(f"{base}/api/v1/admin/consultations/bws/you-said-we-did", json=entry,
                                 headers=admin) as r:
                assert r.status == 201
            async with http.post(f"{base}/api/v1/admin/consultations/bws/digests", json={"group": "bws-young"},
                                 headers=admin) as r:
                digest = await r.json()
                assert r.status == 201
            for lang in ("en", "cy"):
                async with http.get(f"{base}/digests/{digest['id']}?lang={lang}", headers=admin) as r:
                    assert r.status == 200
                    page = await r.text()
                assert len(page) < 1_000_000  # the field was shown, not obeyed
            async with http.get(f"{base}/consultations/bws?lang=cy") as r:
                page = await r.text()
                assert "{x:&gt;500000000}" in page and "%(x)s" in page and "{x.__class__}" in page
            assert time.perf_counter() - started < 30  # nothing was padded to half a billion characters
    finally:
        await server.close()
