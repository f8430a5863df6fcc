"""``fsync`` off the event loop: one sync at a time on a thread of its own, its end signalled on
a file descriptor the loop watches.

The journal writes a group commit on the event loop (a write into the page cache takes
microseconds) and hands the ``fsync`` (a fifth of a millisecond on a local SSD, far more on a
network disk) to a :class:`Syncer`, so the loop goes on serving requests while the disk works.
When the sync ends, :meth:`Syncer.fileno` becomes readable: the loop's reader callback takes the
outcome with :meth:`Syncer.result` and acknowledges the group. A thread that needs the outcome
without a loop (closing, trimming, a blocking append) waits with :meth:`Syncer.wait`.

The native syncer (``guardian.journal._fsync``, built from ``src/guardian/_native/fsync.c`` when a C
compiler is present at install) runs the sync on a thread that never takes the GIL, so its end
costs the loop nothing but the read of an eventfd. :class:`ThreadSyncer` is the same in Python,
used where the extension could not be built: its thread takes the GIL twice a sync.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from typing import Protocol


class Syncer(Protocol):
    """One ``fsync`` at a time, in the background."""

    def fileno(self) -> int:
        """A descriptor that is readable while a finished sync's outcome is not taken."""

    def request(self, fd: int) -> None:
        """Start ``fsync(fd)``; only one may be in progress (the journal's ``_flushing``)."""

    def result(self) -> int | None:
        """The finished sync's ``errno`` (0: synced), taken once; ``None`` while it runs."""

    def wait(self) -> None:
        """Block until the sync in progress (if any) has finished."""

    def close(self) -> None:
        """Stop the thread (after the sync in progress) and close the descriptors."""


class ThreadSyncer:
    """:class:`Syncer` on a Python thread, signalled through a pipe."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        self._cond = threading.Condition(threading.Lock())
        self._todo: int | None = None
        self._outcome: int | None = None
        self._busy = False
        self._closing = False
        self._thread: threading.Thread | None = None

    def fileno(self) -> int:
        return self._read

    def request(self, fd: int) -> None:
        with self._cond:
            if self._busy:
                raise RuntimeError("a sync is already in progress")
            self._todo, self._busy, self._outcome = fd, True, None
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="journal-sync",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def result(self) -> int | None:
        with self._cond:
            with contextlib.suppress(BlockingIOError):  # signalled under the lock: ours
                os.read(self._read, 64)
            if self._outcome is None:
                return None
            outcome, self._outcome, self._busy = self._outcome, None, False
        return outcome

    def wait(self) -> None:
        with self._cond:
            while self._busy and self._outcome is None:
                self._cond.wait()

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._todo is None and not self._closing:
                    self._cond.wait()
                if self._todo is None:
                    return
                fd, self._todo = self._todo, None
            try:
                os.fsync(fd)
                outcome = 0
            except OSError as exc:
                outcome = exc.errno or errno.EIO
            with self._cond:
                self._outcome = outcome
                with contextlib.suppress(OSError):
                    os.write(self._write, b"\0")
                self._cond.notify_all()


def new_syncer() -> Syncer:
    """The native syncer when the extension was built, else :class:`ThreadSyncer`."""
    try:
        from guardian.journal import _fsync
    except ImportError:
        return ThreadSyncer()
    return _fsync.Syncer()
