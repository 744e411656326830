#!/usr/bin/env python3
"""The support console in a real headless Chromium, driven by Selenium (chromium-driver).

Usage: console_browser.py BASE_URL TOKEN SEARCH CUSTOMER_ID SCREENSHOT

Logs in with TOKEN, searches for SEARCH, opens the customer's timeline, reads the complaint
acknowledgement as sent (its subject on the page, its email in the sandboxed frame), saves a
screenshot, and runs axe-core's accessibility rules on the login, search and timeline pages.
Prints a JSON report; exits 1 if anything failed.
"""
import json
import sys

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def main():
    base, token, search, customer, screenshot = sys.argv[1:6]
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    failures = []
    accessibility = {}

    def check(condition, what):
        if not condition:
            failures.append(what)

    def audit(page):
        axe = Axe(driver)
        axe.inject()
        results = axe.run()
        serious = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}" for v in results["violations"] if v["impact"] in ("serious", "critical")]
        accessibility[page] = {"violations": len(results["violations"]), "serious": serious}
        check(not serious, f"{page}: serious accessibility violations: {serious}")

    try:
        driver.get(base + "/console")
        check(driver.current_url.endswith("/console/login"), f"not sent to the login page: {driver.current_url}")
        audit("login")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        check(driver.current_url.endswith("/console/search"), f"not logged in: {driver.current_url}")

        box = driver.find_element(By.ID, "q")
        box.send_keys(search)
        box.submit()
        audit("search")
        driver.find_element(By.LINK_TEXT, customer).click()
        check(driver.current_url.endswith("/console/customers/" + customer), f"not on the timeline: {driver.current_url}")
        page = driver.find_element(By.TAG_NAME, "body").text
        check("complaint_acknowledgement" in page, "the acknowledgement is not on the timeline")
        check("We're on it: your complaint" in page, "the acknowledgement's subject is not shown")
        check(driver.find_element(By.TAG_NAME, "h1").text == "Customer " + customer, "the heading does not name the customer")

        frame = driver.find_element(By.CSS_SELECTOR, 'iframe[title="The email complaint_acknowledgement as sent"]')
        check(frame.get_attribute("sandbox") == "", "the email's frame is not sandboxed")
        driver.switch_to.frame(frame)
        email = driver.find_element(By.TAG_NAME, "body").text
        check("Your reference" in email, "the email as sent does not show in its frame")
        driver.switch_to.default_content()
        driver.save_screenshot(screenshot)
        audit("timeline")
    finally:
        driver.quit()
    print(json.dumps({"failures": failures, "accessibility": accessibility}, indent=2))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
