"""Half of a job in a forked child process: the child makes the items, this process uses them.

An import converts rows (Python) while it writes the previous chunk (the database); ``salama
generate`` draws incidents while it writes the previous batch. With two cores, both halves run
at once. The pipe holds little, so the child stays at most an item or two ahead and memory
stays bounded. The child never touches the database connections it inherits (it leaves them
alone and leaves with ``os._exit``); an error in the child is raised here, and an error here
(or leaving early) ends the child.

    with Forked(make_items) as items:
        for item in items:
            use(item)
    items.result  # what make_items returned
"""

import contextlib
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Generator, Iterator

from django.db import connections

# The forked child's copies of the parent's database connections: kept referenced, so that
# nothing in the child ever closes them (closing would end the parent's session too).
_INHERITED_CONNECTIONS: list = []


class Forked:
    """Iterate over what ``produce()`` yields, made in a forked child when ``enabled`` (and
    the system can fork), else here. ``result`` is what ``produce`` returned."""

    def __init__(self, produce: Callable[[], Generator], enabled: bool = True):
        self.produce = produce
        self.enabled = enabled and hasattr(os, "fork")
        self.pid = None
        self.pipe = None
        self.result = None

    def __enter__(self):
        if not self.enabled:
            return self
        receiving, sending = multiprocessing.Pipe(duplex=False)
        self.pid = os.fork()
        if self.pid == 0:  # the child: make, send, and leave without any clean-up
            receiving.close()
            leave_connections_alone()
            try:
                result = yield_from_and_return(
                    self.produce(), lambda item: sending.send(("item", item))
                )
                sending.send(("end", result))
            except BaseException as exc:
                with contextlib.suppress(BaseException):
                    sending.send(("error", sendable(exc)))
            finally:
                os._exit(0)
        sending.close()
        self.pipe = receiving
        return self

    def __iter__(self) -> Iterator:
        if not self.enabled:
            self.result = yield from self.produce()
            return
        while True:
            try:
                kind, item = self.pipe.recv()
            except EOFError:
                raise RuntimeError("The helper process ended unexpectedly.") from None
            if kind == "end":
                self.result = item
                return
            if kind == "error":
                raise item
            yield item

    def __exit__(self, *exc_info):
        if self.pid:
            self.pipe.close()
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None


def yield_from_and_return(generator: Generator, send: Callable) -> object:
    """Pass each item of ``generator`` to ``send``; return the generator's return value."""
    while True:
        try:
            item = next(generator)
        except StopIteration as stop:
            return stop.value
        send(item)


def leave_connections_alone() -> None:
    """In a forked child: make Django forget the parent's connections without closing them;
    code that reads the database there gets a connection of its own."""
    for conn in connections.all(initialized_only=True):
        _INHERITED_CONNECTIONS.append(conn.connection)
        conn.connection = None


def sendable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (to be raised in the parent), else a stand-in."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own object, in our own process)
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
