"""Headless Chromium for the tests that open pages (the docs site, `lstmlab inspect`'s page, the server's page):
Debian's chromium and chromium-driver, driven by Selenium (`.ci/run` installs them). The `browser` fixture is in
conftest.py."""

from __future__ import annotations


def open_page(browser: object, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)  # type: ignore[attr-defined]
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.readyState") == "complete")


def console_errors(browser: object) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]
