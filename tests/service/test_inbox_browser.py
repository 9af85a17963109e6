"""The inbox page in a real browser (Debian's chromium + chromium-driver, headless, selenium):
open the page, approve the pending op, see the run finish."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ptclisp.subagent import create_app

from ._server import serving
from .hosted_agents import Tools, make_host

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("needs Debian's chromium and chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    profile = tempfile.mkdtemp(prefix="ptclisp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.slow
def test_approve_from_the_inbox_page(browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    tools = Tools()
    host = make_host(f"sqlite:///{tmp_path / 'inbox.db'}", tools)
    app = create_app(host, secret="s", token="page-token")
    with serving(app) as base:
        run_id = host.submit("approval", {}, wait=True)
        [op] = host.inbox()
        driver = browser
        driver.get(f"{base}/#token=page-token")  # type: ignore[attr-defined]
        wait = WebDriverWait(driver, 30)
        row = wait.until(ec.presence_of_element_located((By.ID, f"op-{op.op_id}")))
        assert run_id in row.text and "request-approval" in row.text and "740" in row.text
        driver.find_element(By.ID, "by").clear()  # type: ignore[attr-defined]
        driver.find_element(By.ID, "by").send_keys("Grace in the browser")  # type: ignore
        row.find_element(By.CLASS_NAME, "approve").click()
        done = wait.until(ec.presence_of_element_located(
            (By.CSS_SELECTOR, f"#run-{run_id}.status-ok")))
        assert '"by":"Grace in the browser"' in done.text
        assert host.status(run_id)["result"]["by"] == "Grace in the browser"
        assert tools.calls["send-email"] == 1
        wait.until(lambda d: "nothing pending" in d.find_element(By.ID, "ops").text)
    host.close()
