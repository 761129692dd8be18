"""The student edition in a real browser: JupyterLab, Run All, Validate.

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``; ``.ci/run``
installs them) drives JupyterLab started as the student edition's ``make lab``
starts it. Screenshots go to ``build/screenshots/`` as test artifacts.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder.course import Course
from autograder.edition import build_student_edition

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
TOKEN = "student-edition-test"
NOTEBOOK = "00_platform_map/platform_map.ipynb"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _browser() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        message = "Debian's chromium and chromium-driver are needed (.ci/run installs them as root)"
        if os.environ.get("COURSE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return chromium, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:
        return 0  # not listening yet


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _browser()
    tmp = tmp_path_factory.mktemp("lab")
    edition = build_student_edition(Course(ROOT), tmp / "student").with_suffix("")
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(edition / "jupyter_config"),  # as the edition's `make lab` sets it
        "PYTHONPATH": str(edition),  # the edition's own course package, as its `pip install -e .` gives
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
    }
    argv = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={edition}",
    ]
    if os.getuid() == 0:
        argv.append("--allow-root")
    log = open(tmp / "lab.log", "wb")
    server = subprocess.Popen(argv, cwd=edition, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while _get(f"{base}/api/status?token={TOKEN}") != 200:
            assert server.poll() is None and time.monotonic() < deadline, (tmp / "lab.log").read_text()[
                -3000:
            ]
            time.sleep(0.5)
        yield base, edition
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_instructor_endpoints_are_off(lab):
    base, _ = lab
    assert _get(f"{base}/formgrader?token={TOKEN}") == 404
    assert _get(f"{base}/assignments?token={TOKEN}") == 404
    assert _get(f"{base}/nbgrader_version?version=0&token={TOKEN}") != 404  # Validate's server side is on


def _chrome(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def test_feedback_page_reads_on_a_phone(tmp_path):
    from autograder.feedback import render

    tests = [
        {
            "grade_id": f"margin_{i}",
            "part": "Part A — Uncertainty scores (9 points)",
            "score": i % 2,
            "max_score": 1,
            "status": "passed" if i % 2 else "failed",
            "description": "margin uses the two largest probabilities, wherever they are in the row.",
            "message": ""
            if i % 2
            else "your code raised ValueError at: check_close(margin(np.array([[0.2, 0.5, 0.3]])), np.array([0.7]), what='margin of three classes')",
        }
        for i in range(6)
    ]
    result = {
        "student_id": "Jose-Garcia",
        "assignment": "01_labeling",
        "score": 3,
        "max_score": 6,
        "graded_at": "2026-11-25T00:00:00+00:00",
        "reasons": ["labeling.ipynb: locked cell 'setup' was edited; it was restored"],
        "tests": tests,
    }
    page = tmp_path / "feedback.html"
    page.write_text(render(result))
    browser = _chrome(390, 844)  # a phone's viewport
    try:
        browser.get(page.as_uri())
        browser.save_screenshot(str(SHOTS / "feedback_phone.png"))
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a phone's screen"
        assert "3 of 6 tests passed" in browser.find_element("tag name", "body").text
    finally:
        browser.quit()


def test_run_all_then_validate_in_chromium(lab):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = lab
    browser = _chrome(1400, 1000)
    wait = WebDriverWait(browser, 180)
    try:
        browser.get(f"{base}/lab/tree/{NOTEBOOK}?token={TOKEN}")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")))
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".validate-button")))
        menus = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel")]
        assert "Run" in menus and not {"Nbgrader", "Formgrader"} & set(menus), menus

        browser.find_element(
            By.XPATH, "//div[contains(@class,'lm-MenuBar-itemLabel') and text()='Run']"
        ).click()
        wait.until(
            ec.element_to_be_clickable(
                (By.XPATH, "//div[contains(@class,'lm-Menu-itemLabel') and text()='Run All Cells']")
            )
        ).click()

        def stopped(driver) -> bool:
            # Run All runs until the first error (a stub's NotImplementedError), then the kernel idles.
            prompts = [
                p.text.strip() for p in driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputPrompt")
            ]
            ran = any(p[1:-2].isdigit() for p in prompts if p.startswith("["))
            return (
                ran
                and "[*]:" not in prompts
                and "Idle" in driver.find_element(By.CSS_SELECTOR, "#jp-main-statusbar").text
            )

        wait.until(stopped)
        errors = browser.find_elements(By.CSS_SELECTOR, "[data-mime-type='application/vnd.jupyter.stderr']")
        assert any("NotImplementedError" in e.text for e in errors), (
            "the stubs should raise NotImplementedError"
        )
        browser.save_screenshot(str(SHOTS / "student_run_all.png"))

        browser.find_element(By.CSS_SELECTOR, ".validate-button").click()
        dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".jp-Dialog-content")))
        wait.until(lambda d: "failed" in dialog.text.lower() or "success" in dialog.text.lower())
        text = dialog.text
        browser.save_screenshot(str(SHOTS / "student_validate.png"))
        assert "Validation failed" in text or "The following cell failed" in text, text
        assert "NotImplementedError" in text, text
        page = browser.page_source
        assert "Error fetching courses" not in page and "exchange directory does not exist" not in page
    finally:
        browser.save_screenshot(str(SHOTS / "student_last.png"))
        browser.quit()
