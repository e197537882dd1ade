"""The ``cyswllt`` command line. Each command's work lives with the part of the product it
belongs to; this module only parses arguments and reports errors plainly."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pydantic import ValidationError

from cyswllt.settings import Settings

# command -> "module:function"; each function takes (settings, args) and returns an exit code.
COMMANDS = {
    "serve": "cyswllt.serve:run",
    "demo": "cyswllt.demo:run",
    "chat": "bot.console:run_chat",
    "import actions": "storage.imports:run_import_actions",
    "import members": "storage.imports:run_import_members",
    "responses import": "engagement.paper:run_import",
    "responses reanalyse": "engagement.worker:run_reanalyse",
    "analyse": "engagement.analysis.csvtool:run",
    "meetings add": "storage.imports:run_add_meeting",
    "meetings pack": "handlers.packs:run_pack",
    "db upgrade": "storage.migrate:run_upgrade",
    "db recount": "storage.migrate:run_recount",
    "jobs list": "scheduler.cli:run_jobs_list",
    "jobs run": "scheduler.cli:run_jobs_run",
    "outbox list": "scheduler.cli:run_outbox_list",
    "outbox retry": "scheduler.cli:run_outbox_retry",
    "outbox send": "cyswllt.deliver:run_outbox_send",
    "teams package": "bot.teams.package:run",
    "boards set": "storage.imports:run_set_board",
    "boards list": "storage.imports:run_list_boards",
    "report annual": "engagement.reports:run_annual",
}


class CommandError(Exception):
    """A problem to report to the operator in one plain line (exit code 2)."""


def _positive(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"{value!r}: a number of processes from 1 to 64")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cyswllt", description="Cyswllt: board actions, scrutiny and consultations.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name: str, help: str, parent=sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(target=name)
        return p

    def group(name: str, help: str):
        p = sub.add_parser(name, help=help, description=help)
        return p.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")

    serve = cmd("serve", "Run the web service (chat endpoints, consultation pages and API).")
    serve.add_argument("--workers", type=_positive, metavar="N", help="processes serving on one port (default: "
                       "$CYSWLLT_WORKERS, else 1); the first also runs the scheduler, the outbox and the analysis")
    serve.add_argument("--log-format", choices=["text", "json"], help="json: one JSON object a line "
                       "(default: $CYSWLLT_LOG_FORMAT, else text)")
    cmd("demo", "Load a demo board from the seed action plans (its dates moved to fall around today) and an "
               "open demo consultation with its first responses.")
    chat = cmd("chat", "A local chat console that runs the same commands as Slack and Teams.")
    chat.add_argument("--as", dest="as_email", required=True, metavar="EMAIL", help="the member to act as")
    chat.add_argument("--board", help="board name, for members of several boards")

    imp = group("import", "Import an action plan or a member list from CSV.")
    for what in ("actions", "members"):
        p = imp.add_parser(what, help=f"Import {what} from CSV (all or nothing).")
        p.set_defaults(target=f"import {what}")
        p.add_argument("file", metavar="FILE.csv")
        p.add_argument("--board", required=True, metavar="NAME", help="created when named for the first time")

    resp = group("responses", "Consultation responses.")
    p = resp.add_parser("import", help="Import paper, email and event responses from CSV (all or nothing).")
    p.set_defaults(target="responses import")
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--consultation", required=True, metavar="SLUG")
    p = resp.add_parser("reanalyse", help="Analyse a consultation's responses again with the current analyser, "
                        "a few at a time; people's edits to themes and moderation are kept.")
    p.set_defaults(target="responses reanalyse")
    p.add_argument("--consultation", required=True, metavar="SLUG")
    p.add_argument("--queue-only", action="store_true",
                   help="only mark them: the running service's analysis worker does the work in the background")

    p = cmd("analyse", "Add language, sentiment and themes to a CSV's rows (writes CSV to standard output).")
    p.add_argument("file", metavar="FILE.csv")

    meetings = group("meetings", "Board meeting dates and their packs.")
    p = meetings.add_parser("add", help="Add a board meeting date.")
    p.set_defaults(target="meetings add")
    p.add_argument("--board", required=True, metavar="NAME")
    p.add_argument("date", metavar="DATE", help="YYYY-MM-DD")
    p.add_argument("--kind", default="board", choices=["board", "scrutiny"], help="board meeting or scrutiny committee")
    p = meetings.add_parser("pack", help="A board meeting's pack (red, overdue and stale actions, changes since the "
                            "last meeting, scrutiny, consultations, members nobody can reach) as text or PDF.")
    p.set_defaults(target="meetings pack")
    p.add_argument("--board", required=True, metavar="NAME")
    p.add_argument("--meeting", metavar="DATE", help="YYYY-MM-DD (default: the next board meeting)")
    p.add_argument("--pdf", metavar="FILE", help="write the pack as a PDF to FILE")
    p.add_argument("--lang", default="en", choices=["en", "cy"], help="the pack's language (default en)")

    db = group("db", "Database schema.")
    p = db.add_parser("upgrade", help="Bring the database schema to the latest version.")
    p.set_defaults(target="db upgrade")
    p = db.add_parser("recount", help="Check the digest totals kept as analysis lands against a count from the "
                      "responses, and count again any that differ.")
    p.set_defaults(target="db recount")
    p.add_argument("--consultation", metavar="SLUG", help="only this consultation (default: all)")
    p.add_argument("--check", action="store_true", help="only compare; exit code 1 if anything differs")

    jobs = group("jobs", "Scheduled jobs.")
    p = jobs.add_parser("list", help="List scheduled jobs and their next run.")
    p.set_defaults(target="jobs list")
    p = jobs.add_parser("run", help="Run one job now.")
    p.set_defaults(target="jobs run")
    p.add_argument("name")

    outbox = group("outbox", "Outbound messages.")
    p = outbox.add_parser("list", help="List outbound messages.")
    p.set_defaults(target="outbox list")
    p.add_argument("--failed", action="store_true", help="only messages that failed or were dead-lettered")
    p.add_argument("--unreachable", action="store_true",
                   help="board members no platform set up here can reach (their messages wait on the console)")
    p = outbox.add_parser("send", help="Deliver whatever is due now, then exit.")
    p.set_defaults(target="outbox send")
    p = outbox.add_parser("retry", help="Send a failed message again.")
    p.set_defaults(target="outbox retry")
    p.add_argument("id", type=int)

    boards = group("boards", "Boards: their Welsh names and whether their public pages are published.")
    p = boards.add_parser("list", help="List boards with their address, Welsh name and publish setting.")
    p.set_defaults(target="boards list")
    p = boards.add_parser("set", help="Set a board's Welsh name, publish or unpublish its public pages, or set its email address.")
    p.set_defaults(target="boards set")
    p.add_argument("--board", required=True, metavar="NAME")
    p.add_argument("--name-cy", metavar="ENW", help="the board's name in Welsh (an empty string clears it)")
    published = p.add_mutually_exclusive_group()
    published.add_argument("--publish", dest="published", action="store_const", const=True,
                           help="serve the board's public pages, scrutiny register, reports and open data")
    published.add_argument("--unpublish", dest="published", action="store_const", const=False,
                           help="stop serving them (404)")
    p.add_argument("--email", metavar="ADDRESS",
                   help="where the board's notices go by email, e.g. a members' list (an empty string removes it)")

    report = group("report", "Reports to citizens.")
    p = report.add_parser("annual", help="A board's annual report for a financial year (text, or --pdf).")
    p.set_defaults(target="report annual")
    p.add_argument("--board", required=True, metavar="NAME")
    p.add_argument("--year", required=True, metavar="YYYY-YY", help="the financial year from 1 April, e.g. 2026-27")
    p.add_argument("--lang", default="en", choices=["en", "cy"])
    p.add_argument("--pdf", metavar="FILE", help="write the report as a PDF to FILE")

    teams = group("teams", "Microsoft Teams.")
    p = teams.add_parser("package", help="Write a Teams app package (manifest.json and icons, zipped).")
    p.set_defaults(target="teams package")
    p.add_argument("--output", default="cyswllt-teams.zip", metavar="FILE.zip")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    module_name, func_name = COMMANDS[args.target].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        settings = Settings()
    except ValidationError as exc:  # a setting from the environment that makes no sense
        for error in exc.errors(include_url=False, include_input=False):
            name = error["loc"][0] if error["loc"] else "a setting"
            print(f"cyswllt: {name}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    try:
        return int(func(settings, args) or 0)
    except CommandError as exc:
        print(f"cyswllt: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run the imported module's main, so commands raising cyswllt.cli.CommandError are caught here too.
    from cyswllt.cli import main as _main

    sys.exit(_main())
