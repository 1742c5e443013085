"""Headless Chromium driven as a person would use it: open a URL, read the page, click a
button. The DevTools protocol travels over ``--remote-debugging-pipe`` (file descriptors 3
and 4, JSON messages ended by NUL), so no WebSocket client nor browser library is needed:
the same ``chromium`` binary the report's browser test uses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ABSENT = "headless Chromium is absent: install it with `apt-get install -y chromium`"


def chromium_present() -> bool:
    return Path(CHROMIUM).exists()


class BrowserError(RuntimeError):
    """Chromium said no, or said nothing in time."""


class HeadlessChromium:
    """One browser, one tab; every call waits for its answer (use it from a thread)."""

    def __init__(self, profile: Path, *, timeout: float = 30.0) -> None:
        self._profile = profile
        self._timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._session = ""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self._profile.mkdir(parents=True, exist_ok=True)
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def as_fds_3_and_4() -> None:  # the child's end of the pipes, where Chromium looks
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        self._process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=as_fds_3_and_4,  # noqa: PLW1509 - before any thread of the browser
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        self._call("Page.enable", session=True)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
        os.close(self._to_browser)
        os.close(self._from_browser)

    # --- what a person does ---------------------------------------------------------------

    def open(self, url: str) -> str:
        """Go to ``url``; the page's HTML once loaded."""
        self._events.clear()
        self._call("Page.navigate", {"url": url}, session=True)
        self._wait_for("Page.loadEventFired")
        return self.html()

    def click(self, selector: str) -> str:
        """Click the element (a form's button: the browser submits the form); the HTML of the
        page that comes next."""
        self._events.clear()
        self.check(selector)
        self._wait_for("Page.loadEventFired")
        return self.html()

    def check(self, selector: str) -> None:
        """Tick a radio button or check box, by clicking it (no navigation)."""
        point = self._centre_of(selector)
        for kind in ("mousePressed", "mouseReleased"):
            self._call(
                "Input.dispatchMouseEvent",
                {"type": kind, "button": "left", "clickCount": 1, **point},
                session=True,
            )

    def html(self) -> str:
        document = self._call("DOM.getDocument", {"depth": 0}, session=True)["root"]
        outer = self._call("DOM.getOuterHTML", {"nodeId": document["nodeId"]}, session=True)
        return str(outer["outerHTML"])

    # --- the protocol -----------------------------------------------------------------------

    def _centre_of(self, selector: str) -> dict[str, float]:
        document = self._call("DOM.getDocument", {"depth": 0}, session=True)["root"]
        found = self._call(
            "DOM.querySelector", {"nodeId": document["nodeId"], "selector": selector}, session=True
        )
        if not found.get("nodeId"):
            raise BrowserError(f"nothing matches {selector!r} on the page")
        self._call("DOM.scrollIntoViewIfNeeded", {"nodeId": found["nodeId"]}, session=True)
        box = self._call("DOM.getBoxModel", {"nodeId": found["nodeId"]}, session=True)
        quad = box["model"]["content"]
        return {"x": (quad[0] + quad[4]) / 2, "y": (quad[1] + quad[5]) / 2}

    def _call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            if "method" in answer:
                self._events.append(answer)

    def _wait_for(self, event: str) -> None:
        while not any(seen.get("method") == event for seen in self._events):
            self._events.append(self._receive())

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + self._timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                raise BrowserError("Chromium closed its pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(message))
