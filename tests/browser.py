"""Headless Chromium over the DevTools protocol (a pipe, stdlib only): load a page, report
its console errors, uncaught exceptions, failed loads and images that did not load.

A helper for tests/test_report_browser.py (its name does not start with test_)."""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
REPLY_LIMIT_S = 120  # a hang guard for one reply or page load on a loaded machine, not a check
# Every <img> that has finished and has pixels; SVG images report their intrinsic size too.
IMAGES_JS = ("JSON.stringify({count: document.images.length, broken: Array.from(document.images)"
             ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')"
             ".slice(0, 80))})")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium, driven through --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, executable: str):
        self.profile = tempfile.mkdtemp(prefix="ugc_chromium_")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        args = ["--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                f"--user-data-dir={self.profile}", "about:blank"]
        # Chromium reads commands on fd 3 and writes replies on fd 4: placed there in the
        # child, by way of fds >= 10 so that neither end overwrites the other.
        def place_fds():
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)
        self.process = subprocess.Popen([executable, *args], preexec_fn=place_fds,
                                        close_fds=False,  # keeps fds 3 and 4 (ours are
                                        # non-inheritable, so no other fd leaks)
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=REPLY_LIMIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, limit_s: float) -> dict:
        deadline = time.monotonic() + limit_s
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise RuntimeError(f"Chromium sent nothing for {limit_s:.0f} s")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message(REPLY_LIMIT_S)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_event(self, method: str, session: str) -> dict:
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self._events.pop(i)
            self._events.append(self._read_message(REPLY_LIMIT_S))

    def check_page(self, path: Path) -> dict:
        """Load path; return {"images": count, "problems": [one line per problem]}."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._events.clear()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        # Nothing from the network: a page must render from its own file and folder, and
        # the result must not depend on whether this machine is online.
        self.send("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]}, session=session)
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        self.wait_event("Page.loadEventFired", session)
        found = json.loads(self.send("Runtime.evaluate", {"expression": IMAGES_JS,
                                                          "returnByValue": True},
                                     session=session)["result"]["value"])
        self.send("Target.closeTarget", {"targetId": target})
        problems = [f"image not loaded: {src}" for src in found["broken"]]
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                problems.append("exception: " + details.get("exception", {}).get(
                    "description", details.get("text", "")).splitlines()[0])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                problems.append("console error: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]  # failed loads too: "Failed to load resource" and URL
                problems.append(f"log error: {entry.get('text')} {entry.get('url', '')}".strip())
        return {"images": found["count"], "problems": problems}
