"""A tiny Chrome DevTools Protocol client: headless Debian chromium driven over its websocket.

No driver binary and nothing downloaded: the browser is the system's ``chromium`` (Debian's
package, installed by ``make setup``/``make test``), started with a remote-debugging port;
one websocket to the browser target carries every command, page commands with a session id.
Every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import websocket

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The system Chromium, if one is installed."""
    override = os.environ.get("REGISTRY_CHROMIUM")
    if override:
        return shutil.which(override)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    """The browser did not answer as expected in time."""


class Browser:
    """One headless Chromium, one tab; navigate, run script, screenshot, download."""

    def __init__(self, binary: str, timeout: float = 15.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="registry-chromium-")
        self.downloads = Path(self.profile) / "downloads"
        self.downloads.mkdir()
        self.log = open(Path(self.profile) / "chromium.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",  # CI runs as root, where the sandbox cannot start
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--lang=en-US",
                "--window-size=1280,900",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.ws = websocket.create_connection(
            self._browser_url(), timeout=timeout, suppress_origin=True
        )
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.call(
            "Browser.setDownloadBehavior",
            behavior="allowAndName",
            downloadPath=str(self.downloads),
            eventsEnabled=True,
        )

    def _browser_url(self) -> str:
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(f"chromium exited with {self.process.returncode}")
            if marker.exists():
                lines = marker.read_text().split()
                if len(lines) >= 2:
                    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise BrowserError("chromium did not open its debugging port in time")

    # -- protocol ----------------------------------------------------------------------------

    def _send(self, method: str, params: dict[str, Any], session: str | None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = self._receive(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
        raise BrowserError(f"{method}: no answer in {self.timeout}s")

    def _receive(self, deadline: float) -> dict[str, Any]:
        self.ws.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            message: dict[str, Any] = json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException as exc:
            raise BrowserError("the browser went quiet") from exc
        if "method" in message:
            self.events.append(message)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """A browser-level command."""
        return self._send(method, params, None)

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the tab."""
        return self._send(method, params, self.session)

    def wait_for(self, method: str, **match: Any) -> dict[str, Any]:
        """The first event `method` (whose params contain `match`) since the last clear."""
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self.events):
                params = event.get("params", {})
                if event["method"] == method and all(params.get(k) == v for k, v in match.items()):
                    del self.events[: i + 1]
                    return event
            if time.monotonic() >= deadline:
                raise BrowserError(f"no {method} {match} in {self.timeout}s")
            try:
                self._receive(deadline)
            except BrowserError:
                continue

    # -- what a test does --------------------------------------------------------------------

    def goto(self, url: str) -> None:
        """Open a URL and wait for the page to load."""
        self.events.clear()
        self.page("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        """Evaluate JavaScript in the page; the value, as JSON."""
        result = self.page(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click_and_load(self, selector: str) -> None:
        """Click an element (a submit button, a link) and wait for the next page."""
        self.events.clear()
        self.js(f"document.querySelector({json.dumps(selector)}).click()")
        self.wait_for("Page.loadEventFired")

    def fill(self, selector: str, value: str) -> None:
        """Set a form field's value as typing would."""
        self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            f" e.value = {json.dumps(value)};"
            " e.dispatchEvent(new Event('input', {bubbles: true})); })()"
        )

    def set_width(self, width: int, height: int = 900) -> None:
        """Lay the page out at this viewport width (a phone is 420, a desktop 1400)."""
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 600,
        )

    @property
    def url(self) -> str:
        return str(self.js("location.href"))

    def text(self, selector: str) -> str:
        return str(self.js(f"document.querySelector({json.dumps(selector)}).textContent.trim()"))

    def screenshot(self, path: Path) -> Path:
        """A full-page PNG."""
        shot = self.page("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def download(self, selector: str) -> Path:
        """Click a download link and wait for the file to be complete; its path (named by guid)."""
        self.events.clear()
        self.js(f"document.querySelector({json.dumps(selector)}).click()")
        begun = self.wait_for("Browser.downloadWillBegin")["params"]
        self.wait_for("Browser.downloadProgress", guid=begun["guid"], state="completed")
        return self.downloads / begun["guid"]

    def cookies(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.page("Network.getCookies")["cookies"]
        return found

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
