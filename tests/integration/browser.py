"""Headless Chromium from Debian's packages (`chromium`, `chromium-driver`), driven by Selenium.

Selenium is given both binaries, so its manager never tries to download a browser or a driver (there is no
internet here). `make browser` installs the two packages.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def missing() -> str | None:
    """Why the browser cannot start, or None."""
    absent = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists() and not shutil.which(Path(p).name)]
    return f"not installed: {', '.join(absent)} (run `make browser`)" if absent else None


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if reason := missing():
        raise AssertionError(reason)  # the suite installs it: a missing browser is a failure, not a skip
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, timeout: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.5).until(condition)


def log_in(driver, base: str, user: str, password: str, then: str) -> None:
    """Airflow's own login page (SimpleAuthManager's form), which sets the UI's session cookie."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/auth/login/?next={base}{then}")
    wait_for(driver, lambda d: d.find_elements(By.NAME, "username"))
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(driver, lambda d: "/auth/login" not in d.current_url)
