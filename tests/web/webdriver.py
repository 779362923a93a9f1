"""Just enough W3C WebDriver, spoken with httpx to Debian's chromedriver driving headless
Chromium: no selenium, no browser download."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from fakes.ports import free_port

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
)


def find_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver), or why they cannot be used."""
    chromium = os.environ.get("CUSTODY_WATCH_CHROMIUM") or shutil.which("chromium")
    driver = os.environ.get("CUSTODY_WATCH_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium:
        return "no chromium on PATH (apt-get install chromium chromium-driver)"
    if not driver:
        return "no chromedriver on PATH (apt-get install chromium-driver)"
    return chromium, driver


class WebDriverError(Exception):
    pass


class Browser:
    def __init__(self, chromium: str, driver: str, profile: Path) -> None:
        self.port = free_port()
        self._driver = subprocess.Popen(
            [driver, f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self._wait_for_driver()
        options = {"binary": chromium, "args": [*CHROMIUM_ARGS, f"--user-data-dir={profile}"]}
        capabilities = {"browserName": "chrome", "goog:chromeOptions": options}
        value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        self.session = str(value["sessionId"])

    def _wait_for_driver(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._driver.poll() is not None:
                raise WebDriverError(f"chromedriver exited with {self._driver.returncode}")
            try:
                if self.http.get("/status").json()["value"]["ready"]:
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise WebDriverError("chromedriver did not become ready")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        value = response.json().get("value")
        if response.status_code >= 400:
            message = value.get("message", "") if isinstance(value, dict) else value
            raise WebDriverError(f"{method} {path}: {response.status_code} {message}")
        return value

    def _s(self, path: str) -> str:
        return f"/session/{self.session}{path}"

    # -- what tests use

    def get(self, url: str) -> None:
        self._call("POST", self._s("/url"), {"url": url})

    @property
    def url(self) -> str:
        return str(self._call("GET", self._s("/url")))

    def size(self, width: int, height: int) -> None:
        self._call("POST", self._s("/window/rect"), {"width": width, "height": height})

    def find(self, css: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = self._call(
                    "POST", self._s("/element"), {"using": "css selector", "value": css}
                )
                if ELEMENT not in found:
                    raise WebDriverError(f"unexpected answer {found!r}")
                return str(found[ELEMENT])
            except WebDriverError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def type(self, css: str, text: str) -> None:
        self._call("POST", self._s(f"/element/{self.find(css)}/value"), {"text": text})

    def click(self, css: str) -> None:
        self._call("POST", self._s(f"/element/{self.find(css)}/click"), {})

    def text(self, css: str) -> str:
        return str(self._call("GET", self._s(f"/element/{self.find(css)}/text")))

    def wait_for_text(self, css: str, wanted: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                seen = self.text(css)
            except WebDriverError:
                seen = ""
            if wanted in seen or time.monotonic() > deadline:
                return seen
            time.sleep(0.1)

    def script(self, source: str) -> Any:
        return self._call("POST", self._s("/execute/sync"), {"script": source, "args": []})

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self._call("GET", self._s("/screenshot"))))

    def close(self) -> None:
        try:
            self._call("DELETE", self._s(""))
        except (WebDriverError, httpx.HTTPError, AttributeError):
            pass
        finally:
            self.http.close()
            self._driver.terminate()
            try:
                self._driver.wait(10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
