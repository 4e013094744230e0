"""Screenshots of pages for the docs, taken while the site is built: `lstmlab inspect`'s page and the server's page,
opened in Debian's headless Chromium through Selenium (as the browser tests open them; `.ci/run` installs both).

The build shows what a person sees on the machine that built it; a build without Chromium fails with the reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["screenshot"]


def screenshot(
    url: str, path: str, *, act: Callable[[Any], None] | None = None, size: tuple[int, int] = (1200, 800)
) -> str:
    """Open `url`, call `act(driver)` (to hover or type), save a PNG of the window to `path`; returns `path`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (binary and driver_path):
        raise RuntimeError("the docs' screenshots need Debian's chromium and chromium-driver (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]:
        options.add_argument(flag)
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(url)
        WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
        if act is not None:
            act(driver)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(path)
    finally:
        driver.quit()
    return path
