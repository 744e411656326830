#!/usr/bin/env python3
"""The support console in a real headless Chromium, driven by Selenium (chromium-driver).

Usage: console_browser.py BASE_URL READ_TOKEN ADMIN_TOKEN SEARCH CUSTOMER_ID SCREENSHOT_DIR

Logs in with the read token, searches for SEARCH, opens the customer's timeline and reads the
complaint acknowledgement as sent (its subject on the page, its email in the sandboxed frame),
and previews that message's data in every channel; opens the promises page (its charts and
their tables; a screenshot) and the preview of a sample; tries to retry the dead message and is
refused; logs in again as admin, retries it, and finds the retry among the operators' actions.
axe-core's accessibility rules run on every page. Prints a JSON report; exits 1 if anything failed.
"""
import json
import sys

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait


def main():
    base, token, admin, search, customer, shots = sys.argv[1:7]
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
        # A page still being replaced (a form just submitted) can take the injected script with
        # it before the run: wait for a loaded document, and inject again if axe went missing.
        for attempt in range(3):
            WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
            axe = Axe(driver)
            axe.inject()
            try:
                results = axe.run()
                break
            except JavascriptException as error:
                if "axe is not defined" not in str(error) or attempt == 2:
                    raise
        serious = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}" for v in results["violations"] if v["impact"] in ("serious", "critical")]
        accessibility[page] = {"violations": len(results["violations"]), "serious": serious}
        check(not serious, f"{page}: serious accessibility violations: {serious}")

    def log_in(secret):
        driver.get(base + "/console")
        check(driver.current_url.endswith("/console/login"), f"not sent to the login page: {driver.current_url}")
        driver.find_element(By.ID, "token").send_keys(secret)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(expected_conditions.url_contains("/console/search"))

    # Waits ride out a page that is being replaced (a node of the old document, not yet the new).
    def retry_dead():
        driver.get(base + "/console/operations")
        links = driver.find_elements(By.PARTIAL_LINK_TEXT, "Retry")
        if not links:
            return "no dead message to retry on the operations page: " + driver.find_element(By.TAG_NAME, "main").text[:600]
        links[0].click()
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Retry message"))
        driver.find_element(By.CSS_SELECTOR, "main form button").click()
        # The answer replaces the page: wait for its heading, not the confirmation's.
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(lambda d: any(word in d.find_element(By.TAG_NAME, "h1").text for word in ("Refused", "Retried", "Not retried")))
        return driver.find_element(By.TAG_NAME, "main").text

    try:
        driver.get(base + "/console")
        audit("login")
        log_in(token)

        box = driver.find_element(By.ID, "q")
        box.send_keys(search)
        box.submit()
        WebDriverWait(driver, 10).until(expected_conditions.staleness_of(box))
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
        driver.save_screenshot(shots + "/timeline.png")
        audit("timeline")

        # The acknowledgement's own data, previewed in every channel the template has.
        acknowledgement = driver.find_element(By.XPATH, "//li[contains(@class, 'message')][.//strong[text()='complaint_acknowledgement']]")
        acknowledgement.find_element(By.PARTIAL_LINK_TEXT, "Preview its data").click()
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
            expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h2"), "complaint_acknowledgement"))
        page = driver.find_element(By.TAG_NAME, "main").text
        check("Rendered from the data of message" in page, "the preview is not of the real message's data")
        check("sms" in [h.text for h in driver.find_elements(By.TAG_NAME, "h3")], "the real message's data is not shown as an SMS too")
        audit("preview of a message")

        driver.find_element(By.LINK_TEXT, "Promises").click()
        for chart in ("latency-chart", "promises-chart"):
            check(len(driver.find_elements(By.CSS_SELECTOR, f"svg#{chart} title")) == 1, f"no chart {chart} with a title")
        check(len(driver.find_elements(By.CSS_SELECTOR, "table#latency-table tbody tr")) >= 1, "the latency chart has no table of numbers")
        check(len(driver.find_elements(By.CSS_SELECTOR, "table#promises-table tbody tr")) >= 1, "the promises chart has no table of numbers")
        driver.save_screenshot(shots + "/promises.png")
        audit("promises")

        driver.find_element(By.LINK_TEXT, "Preview").click()
        Select(driver.find_element(By.ID, "workflow")).select_by_value("complaint_acknowledgement")
        driver.find_element(By.CSS_SELECTOR, "main form button").click()
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
            expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h2"), "complaint_acknowledgement"))
        check(len(driver.find_elements(By.CSS_SELECTOR, "iframe[sandbox]")) == 1, "the previewed email is not in a sandboxed frame")
        audit("preview")

        driver.get(base + "/console/operations")
        audit("operations")
        refused = retry_dead()
        check("read only" in refused, f"a read-only login retried a message: {refused}")
        driver.get(base + "/console/search")
        driver.find_element(By.CSS_SELECTOR, "nav form[action='/console/logout'] button").click()
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(expected_conditions.url_contains("/console/login"))
        log_in(admin)
        retried = retry_dead()
        check("back in the queue" in retried, f"the admin's retry did not happen: {retried}")
        driver.get(base + "/console/operations")
        actions = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table#actions-table tbody tr")]
        check(any("message.retry" in row and "(console)" in row for row in actions), f"the retry is not among the operators' actions: {actions}")
    finally:
        driver.quit()
    print(json.dumps({"failures": failures, "accessibility": accessibility}, indent=2))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
