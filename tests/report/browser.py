"""Look at a page as a person would: headless Chromium, driven over the DevTools protocol on a pipe (no extra
package, no port), loads a file, says what went wrong on the page and takes a full-page screenshot.

What went wrong is everything the page's console and the browser's log report at level error or warning
(a script error, an image that did not load, a Content-Security-Policy violation), plus every <img> that has no
pixels once the page has loaded.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
TIMEOUT_S = 60.0
BROKEN_IMAGES = (
    "JSON.stringify(Array.from(document.images)"
    ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')))"
)


def _pipe_above(fd: int) -> tuple[int, int]:
    """A pipe (read end, write end) whose descriptors are both above `fd`, close-on-exec."""
    ends = os.pipe()
    moved = tuple(fcntl.fcntl(end, fcntl.F_DUPFD_CLOEXEC, fd + 1) for end in ends)
    for end in ends:
        os.close(end)
    return moved[0], moved[1]


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable on PATH, or None."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@dataclass
class PageLook:
    """What a person would have seen: the screenshot, the page's problems, its title and its text."""

    screenshot: bytes
    problems: list[str] = field(default_factory=list)
    title: str = ""
    text: str = ""


class DevTools:
    """One Chromium process and its DevTools pipe (messages are JSON, each ended by a NUL byte)."""

    def __init__(self, executable: str, profile: Path) -> None:
        # The DevTools pipe is fd 3 (commands in) and fd 4 (replies out). The child's ends are first moved above
        # both, so that putting them in place cannot clobber one with the other.
        to_browser_read, self._to_browser = _pipe_above(4)
        self._from_browser, from_browser_write = _pipe_above(4)
        arguments = [
            executable,
            "--headless",
            "--remote-debugging-pipe",
            "--no-sandbox",  # CI containers run as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "about:blank",
        ]

        def pipes_in_place() -> None:  # dup2 leaves 3 and 4 inheritable; every other descriptor is close-on-exec
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        self.process = subprocess.Popen(
            arguments,
            preexec_fn=pipes_in_place,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its reply (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event `method` (one already received, or the next)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError(f"Chromium said nothing for {TIMEOUT_S:.0f} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError, ConnectionError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def _problems(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            found.append(f"console.{params['type']}: {[arg.get('value') for arg in params.get('args', [])]}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            entry = params["entry"]
            found.append(f"{entry.get('source')} {entry['level']}: {entry.get('text')} {entry.get('url', '')}".strip())
    return found


def look_at(page: Path, width: int = 1280, height: int = 900, executable: str | None = None) -> PageLook:
    """Load `page` from disk in headless Chromium at `width` CSS pixels and look at it, whole."""
    executable = executable or find_chromium()
    if executable is None:
        raise FileNotFoundError("no Chromium on PATH")
    with tempfile.TemporaryDirectory(prefix="tinyai-chromium-") as profile:
        browser = DevTools(executable, Path(profile))
        try:
            target = browser.send("Target.createTarget", url="about:blank")["targetId"]
            session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                browser.send(f"{domain}.enable", session)
            browser.send(
                "Emulation.setDeviceMetricsOverride",
                session,
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            browser.send("Page.navigate", session, url=page.resolve().as_uri())
            browser.wait_for("Page.loadEventFired")
            broken = json.loads(browser.send("Runtime.evaluate", session, expression=BROKEN_IMAGES)["result"]["value"])
            title = browser.send("Runtime.evaluate", session, expression="document.title")["result"]["value"]
            text = browser.send("Runtime.evaluate", session, expression="document.body.innerText")["result"]["value"]
            size = browser.send("Page.getLayoutMetrics", session)["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": width, "height": min(int(size["height"]), 16000), "scale": 1}
            shot = browser.send("Page.captureScreenshot", session, format="png", captureBeyondViewport=True, clip=clip)
        finally:
            browser.close()
    problems = _problems(browser.events) + [f"image not shown: {src}" for src in broken]
    return PageLook(base64.b64decode(shot["data"]), problems, title, text)
