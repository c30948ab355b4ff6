"""Two-factor sign-in in a real browser (issue 11).

* desktop: a new community staff account signs in with its password and lands on enrolment; the
  test reads the secret the page shows (as someone typing it into an authenticator app would)
  and computes codes with pyotp. A wrong code is refused; the right one confirms the
  authenticator and shows ten backup codes once. Signed out and in again: password, then a
  wrong code (refused), then a fresh code → the portal. Then a backup code signs in once; the
  same backup code the second time is refused.
* phone: the enrolment page fits a phone screen (QR code, secret, code field).
Screenshots: two_factor_enrol_desktop.png, two_factor_enrol_phone.png,
two_factor_backup_codes_desktop.png, two_factor_verify_desktop.png.
"""

import re
import time

import pyotp
import pytest

from accounts.models import Role
from tests.factories import PASSWORD, RoleFactory, UserFactory

pytestmark = pytest.mark.e2e

WRONG_CODE = "验证码不正确或已用过，请重试。连续输错后需等待片刻。"


@pytest.fixture
def new_staff(district):
    user = UserFactory(username="new_worker", name="新来的网格员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, community=district.a1.community)
    return user


def password_step(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    form = page.locator("form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("[type=submit]").click()


def submit_code(page, code):
    form = page.get_by_test_id("otp-form")
    form.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        form.locator("[type=submit]").click()


def sign_out(page):
    page.get_by_test_id("user-menu").click()
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()
    assert "/accounts/login/" in page.url


def wrong(code):
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def wait_out_throttle():
    """django-otp refuses any code for 1 s after one wrong code."""
    time.sleep(1.2)


def test_new_staff_enrol_then_sign_in_with_password_and_code(new_staff, live_server, desktop_page, shot):
    page = desktop_page
    password_step(page, live_server, "new_worker")
    assert page.url.endswith("/accounts/two-factor/setup/?next=/")
    assert page.get_by_test_id("totp-qr").locator("svg").is_visible()
    shot(page, "two_factor_enrol_desktop")

    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "").replace("\n", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    app = pyotp.TOTP(secret)  # the authenticator app on the phone

    submit_code(page, wrong(app.now()))
    assert page.get_by_text("验证码不正确，请用验证器上当前显示的 6 位数字重试。").is_visible()
    wait_out_throttle()
    submit_code(page, app.now())

    assert "/accounts/two-factor/backup-codes/" in page.url
    codes = page.get_by_test_id("backup-codes").locator("li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    assert page.get_by_role("button", name="打印").is_visible()
    shot(page, "two_factor_backup_codes_desktop")
    with page.expect_navigation():
        page.get_by_role("link", name="我已保存，继续").click()
    assert "/todo/" in page.url
    sign_out(page)

    # Next time: password, then a code.
    password_step(page, live_server, "new_worker")
    assert "/accounts/two-factor/?next=" in page.url
    shot(page, "two_factor_verify_desktop")
    submit_code(page, wrong(app.now()))
    assert page.get_by_text(WRONG_CODE).is_visible()
    wait_out_throttle()
    # The code used at enrolment is spent: the app's next one (accepted a step early).
    submit_code(page, app.at(time.time() + app.interval))
    assert "/todo/" in page.url
    sign_out(page)

    # A backup code works once.
    password_step(page, live_server, "new_worker")
    submit_code(page, codes[0])
    assert "/todo/" in page.url
    assert page.get_by_text("您用了一个备用码，还剩 9 个。").is_visible()
    sign_out(page)

    password_step(page, live_server, "new_worker")
    submit_code(page, codes[0])
    assert "/accounts/two-factor/" in page.url
    assert page.get_by_text(WRONG_CODE).is_visible()


def test_enrolment_page_fits_a_phone(new_staff, live_server, phone_page, shot):
    page = phone_page
    password_step(page, live_server, "new_worker")

    assert "/accounts/two-factor/setup/" in page.url
    qr = page.get_by_test_id("totp-qr").locator("svg").bounding_box()
    assert qr["width"] >= 180 and qr["x"] >= 0 and qr["x"] + qr["width"] <= 390
    assert page.get_by_test_id("totp-secret").is_visible()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: {widths}"
    shot(page, "two_factor_enrol_phone")
