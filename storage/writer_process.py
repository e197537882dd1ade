"""The SQLite writer process (``storage.direct.WriterProcess``): reads turns from the socket it was given,
runs each in one transaction, and writes back each turn's outcomes, in order, until the socket closes.

A turn arrives as a pickled list of works (functions of modules, with their arguments) and goes back as
``("done", [(ok, value), ...])`` or, when BEGIN or COMMIT failed, ``("failed", exception)``.

Run as ``python -m storage.writer_process DATABASE FD CHECKPOINT_EVERY SETUP_JSON PURPOSE``; only the
process that serves starts it."""

from __future__ import annotations

import json
import pickle
import signal
import socket
import sys

from storage.direct import FRAME, Turns


def _reply(kind: str, value: object) -> bytes:
    try:
        body = pickle.dumps((kind, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # something that cannot be pickled: its description goes instead
        body = pickle.dumps(("failed", RuntimeError(f"the writer's answer could not be sent back: {exc!r}")))
    return FRAME.pack(len(body)) + body


def serve(sock: socket.socket, turns: Turns) -> None:
    incoming = sock.makefile("rb")
    while True:
        head = incoming.read(FRAME.size)
        if len(head) < FRAME.size:
            return  # the serving process closed its end, or went
        (size,) = FRAME.unpack(head)
        body = incoming.read(size)
        if len(body) < size:
            return
        try:
            answer = _reply("done", turns.run(pickle.loads(body)))
        except Exception as exc:
            answer = _reply("failed", exc)
        try:
            sock.sendall(answer)
        except OSError:
            return  # the serving process went while its turn was written


def main(argv: list[str]) -> int:
    path, fd, every, setup, purpose = argv
    # Stopping is the serving process's to decide: it closes the socket once its last turn is answered
    # (Ctrl-C and a service manager's SIGTERM reach the whole process group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    turns = Turns(path, tuple(json.loads(setup)), float(every), purpose)
    sock = socket.socket(fileno=int(fd))
    try:
        serve(sock, turns)
    finally:
        turns.close()
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
