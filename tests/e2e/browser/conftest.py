"""A real Chromium, driven by Playwright, against the live web, worker and scheduler.

Chromium is the system's (Debian's package, or CHROMIUM_PATH); nothing is downloaded at
test time. Each test saves a screenshot of every step under
test-output/browser/<test name>/ (or $TEST_OUTPUT_DIR/browser/...).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import global_settings, settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from playwright.sync_api import Browser, Page, sync_playwright

from ..support import Stack

# Playwright's sync API keeps an event loop running in the test's thread, which Django
# takes for an async context; the tests only use the ORM from that one thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ADMIN_PASSWORD = "browser-pass-1"
# Flags for a headless Chromium on a machine without a network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "No Chromium found: run scripts/ensure_chromium.sh or set CHROMIUM_PATH."
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    base = Path(
        os.environ.get("TEST_OUTPUT_DIR") or Path(settings.BASE_DIR) / "test-output"
    )
    folder = base / "browser" / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@dataclass
class Operator:
    """A logged-in admin user in a browser tab, taking a screenshot of each step."""

    page: Page
    base_url: str
    folder: Path
    steps: int = 0

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def shot(self, step: str) -> Path:
        self.steps += 1
        path = self.folder / f"{self.steps:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def operator(stack: Stack, browser: Browser, screenshots: Path) -> Iterator[Operator]:
    # The live web runs the production settings, whose hashers do not read the tests'
    # fast MD5 hashes.
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        get_user_model().objects.create_superuser(
            "operator", "op@example.com", ADMIN_PASSWORD
        )
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    operator = Operator(page=page, base_url=stack.api.base_url, folder=screenshots)

    operator.open("/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", ADMIN_PASSWORD)
    operator.shot("login")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    operator.shot("admin-index")
    assert re.search(r"/admin/$", page.url), (
        f"login did not reach the admin: {page.url}"
    )
    yield operator
    context.close()
