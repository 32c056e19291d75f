import base64
import binascii

import pytest

from tests.factories import editor
from tests.staff import PASSWORD, code_for_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_editor_sets_up_an_app_and_logs_in_with_its_code(
    live_server, browser, screenshot, settings
):
    """First login leads to set-up; the key on the page works; the next login asks for a code."""
    settings.REQUIRE_TWO_FACTOR = True
    editor("eddie")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/admin/login/")
    screenshot(page, "two-factor-1-login")
    page.fill("#id_username", "eddie")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/two-factor/")
    assert page.locator("figure svg").count() == 1
    screenshot(page, "two-factor-2-set-up")

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = binascii.hexlify(base64.b32decode(secret + "=" * (-len(secret) % 8))).decode()
    page.fill("#id_code", code_for_key(key))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    page.get_by_text("These are your recovery codes").wait_for()
    assert page.locator("ol.recovery-codes li").count() == 10
    screenshot(page, "two-factor-3-recovery-codes")
    page.get_by_role("link", name="Continue to the admin").click()
    page.wait_for_url("**/admin/")

    fresh = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    fresh.goto(f"{live_server.url}/admin/login/")
    fresh.fill("#id_username", "eddie")
    fresh.fill("#id_password", PASSWORD)
    fresh.click("input[type=submit]")
    fresh.get_by_text("This account uses two-factor authentication").wait_for()
    screenshot(fresh, "two-factor-4-code-required")
