"""A fake Slack Web API on 127.0.0.1 that records every call, for the real Slack SDK to talk to.

    async with FakeSlackAPI() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        ...
        slack.calls_to("chat.postMessage")
        slack.fail_next("chat.postMessage", status=429, retry_after=2)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    when: Any = None  # the test's own clock at the call, when the fake was given one


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    times: int = 1


class FakeSlackAPI:
    def __init__(self, *, delay: float = 0.0) -> None:
        self.calls: list[Call] = []
        self.refused: list[Call] = []  # calls answered with a failure
        self.fail_response_url = False  # response URLs answer 404, as Slack's do once expired
        self.clock: Callable[[], Any] | None = None  # a test's clock, stamped on each call as ``when``
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> posted messages
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> {"bytes", "filename", "alt_text"}
        self.failures: dict[str, list[Failure]] = {}
        self.delay = delay  # seconds before answering chat.postMessage (to catch a crash mid-send)
        # Seconds chat.postMessage waits before it takes the message: a sender killed meanwhile never
        # finished its request, so Slack never has the message (a crash before the platform call).
        self.hold_before = 0.0
        # (method, args) -> a Failure to answer with, or None: an outage decided call by call, e.g. by a
        # test's own clock ("429 for two minutes, then 500 until ten minutes have passed").
        self.outage: Callable[[str, dict[str, Any]], Failure | None] | None = None
        self.in_flight = 0  # chat.postMessage calls being answered now
        self.most_in_flight = 0
        self._ts = itertools.count(1)
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- control --------------------------------------------------------------------

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.root}/response/{name}"

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def fail_next(self, method: str, *, status: int = 200, error: str | None = None,
                  retry_after: float | None = None, times: int = 1) -> None:
        if status == 200 and error is None:
            error = "internal_error"
        self.failures.setdefault(method, []).append(Failure(status, error, retry_after, times))

    async def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[Call]:
        async def enough():
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.calls_to(method)) >= count)

        await asyncio.wait_for(enough(), timeout)
        return self.calls_to(method)

    # --- server ---------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlackAPI:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record(self, method: str, args: dict[str, Any], request: web.Request) -> None:
        async with self._arrived:
            self.calls.append(Call(method, args, dict(request.headers), when=self.clock() if self.clock else None))
            self._arrived.notify_all()

    @staticmethod
    async def _args(request: web.Request) -> dict[str, Any]:
        query = dict(request.query)  # some methods send their arguments as URL parameters
        return {**query, **await FakeSlackAPI._body_args(request)}

    @staticmethod
    async def _body_args(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        if request.content_type == "application/json":
            return await request.json()
        if request.content_type.startswith("multipart/"):
            args: dict[str, Any] = {}
            reader = await request.multipart()
            async for part in reader:
                args[part.name] = await part.read() if part.filename else await part.text()
            return args
        args = dict(parse_qsl(await request.text()))
        for key in ("blocks", "metadata", "view", "files", "attachments"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        await self._record(method, args, request)
        queued = self.failures.get(method)
        failure = self.outage(method, args) if self.outage is not None else None
        if failure is None and queued:
            failure = queued[0]
            failure.times -= 1
            if failure.times <= 0:
                queued.pop(0)
        if failure is not None:
            headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
            self.refused.append(self.calls[-1])
            if failure.status != 200:
                return web.json_response({"ok": False, "error": failure.error or "ratelimited"},
                                         status=failure.status, headers=headers)
            return web.json_response({"ok": False, "error": failure.error}, headers=headers)
        if method == "chat.postMessage" and self.hold_before:
            await asyncio.sleep(self.hold_before)
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the sender went away: nothing was posted
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        body = await handler(args) if handler else {}
        return web.json_response({"ok": True, **body})

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            data = b""
            async for part in reader:
                data = await part.read()
        self.uploads.setdefault(file_id, {})["bytes"] = data
        await self._record("upload", {"file_id": file_id, "size": len(data)}, request)
        return web.Response(text="OK - " + str(len(data)))

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record("response_url", await request.json(), request)
        if self.fail_response_url:  # expired (after 30 minutes) or used up (after 5 answers)
            return web.Response(status=404, text="used_url")
        return web.Response(text="ok")

    # --- methods ----------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def _m_auth_test(self, args):
        return {"url": "https://cyswllt.slack.com/", "team": "Cyswllt", "user": "cyswllt", "team_id": "T0001",
                "user_id": "U0BOT", "bot_id": "B0001"}

    async def _m_chat_postMessage(self, args):
        channel = args.get("channel", "")
        if channel.startswith(("U", "W")):
            channel = "D" + channel[1:]
        ts = self._next_ts()
        self.messages.setdefault(channel, []).append({"ts": ts, "text": args.get("text"), "blocks": args.get("blocks"),
                                                      "metadata": args.get("metadata"), "thread_ts": args.get("thread_ts")})
        if self.delay:
            # Slack has the message; the answer is slow (a crash now leaves the row "sending").
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.in_flight -= 1
        return {"channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    async def _m_chat_postEphemeral(self, args):
        return {"message_ts": self._next_ts()}

    async def _m_chat_update(self, args):
        return {"channel": args.get("channel"), "ts": args.get("ts")}

    async def _m_chat_getPermalink(self, args):
        return {"channel": args.get("channel"), "permalink": f"{self.root}/archives/{args.get('channel')}"}

    async def _m_conversations_open(self, args):
        users = str(args.get("users", "U0"))
        return {"channel": {"id": "D" + users.split(",")[0][1:]}}

    async def _m_conversations_history(self, args):
        channel = args.get("channel", "")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        top = [m for m in reversed(self.messages.get(channel, [])) if m.get("thread_ts") in (None, m["ts"])]
        return {"messages": [self._shown(m, with_metadata) for m in top], "has_more": False}

    async def _m_conversations_replies(self, args):
        channel, ts = args.get("channel", ""), args.get("ts")
        thread = [m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts]
        return {"messages": [self._shown(m, True) for m in thread], "has_more": False}

    @staticmethod
    def _shown(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        shown = {"type": "message", "ts": message["ts"], "text": message["text"]}
        if message.get("thread_ts"):
            shown["thread_ts"] = message["thread_ts"]
        if message.get("files"):
            shown["files"] = message["files"]
        if with_metadata and message.get("metadata"):
            shown["metadata"] = message["metadata"]
        return shown

    async def _m_views_open(self, args):
        return {"view": {"id": "V" + str(next(self._ts)), **(args.get("view") or {})}}

    async def _m_views_update(self, args):
        return {"view": {"id": args.get("view_id")}}

    async def _m_views_publish(self, args):
        return {"view": {"id": "VHOME", **(args.get("view") or {})}}

    async def _m_users_info(self, args):
        return {"user": {"id": args.get("user"), "name": "someone", "tz": "Europe/London"}}

    async def _m_files_getUploadURLExternal(self, args):
        file_id = f"F{next(self._ts):06d}"
        self.uploads[file_id] = {"filename": args.get("filename"), "alt_text": args.get("alt_txt"),
                                 "length": args.get("length")}
        return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    async def _m_files_completeUploadExternal(self, args):
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        channel = args.get("channel_id")
        for f in files or []:
            self.uploads.setdefault(f["id"], {})["title"] = f.get("title")
            self.uploads[f["id"]]["channel"] = channel
        if channel and files:
            # Sharing the files posts a message (in the thread when one is named), as Slack does.
            self.messages.setdefault(channel, []).append({
                "ts": self._next_ts(), "text": args.get("initial_comment", ""), "blocks": None, "metadata": None,
                "thread_ts": args.get("thread_ts"),
                "files": [{"id": f["id"], "title": f.get("title"), "alt_txt": self.uploads[f["id"]].get("alt_text")}
                          for f in files]})
        return {"files": [{"id": f["id"], "title": f.get("title")} for f in files or []]}


def visible_text(blocks: list[dict[str, Any]] | None) -> str:
    """What a member sees of Block Kit: rich-text runs (bold runs between ``**``), section and field
    texts, button labels, one block a line."""
    lines: list[str] = []
    for block in blocks or []:
        if block.get("type") == "rich_text":
            runs = []
            for part in block.get("elements", []):
                for run in part.get("elements", []):
                    text = run.get("text", "")
                    runs.append(f"**{text}**" if (run.get("style") or {}).get("bold") else text)
            lines.append("".join(runs))
        elif block.get("type") == "actions":
            lines.append(" ".join(f"[{e['text']['text']}]" for e in block.get("elements", [])))
        else:
            texts = [block.get("text", {}).get("text", "")] + [f.get("text", "") for f in block.get("fields", [])]
            lines.append("\n".join(t for t in texts if t))
    return "\n".join(lines)
