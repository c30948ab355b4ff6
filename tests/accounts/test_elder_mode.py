"""长辈版 (elder mode): chosen on the login page (remembered on the device, taken by the account
at sign-in) or in the menu (remembered on both); a signed-in page follows the account."""

from django.test import Client
from django.urls import reverse

from accounts.elder import COOKIE
from tests.factories import PASSWORD


def is_elder(response):
    return 'class="elder ' in response.content.decode()


def test_the_login_page_switch_is_remembered_on_the_device_and_taken_by_the_account(resident):
    client = Client()
    assert not is_elder(client.get(reverse("accounts:login")))

    response = client.post(reverse("accounts:elder_mode"), {"on": "1", "next": reverse("accounts:login")})
    assert response.status_code == 302
    assert response.url == reverse("accounts:login")
    assert client.cookies[COOKIE].value == "1"
    page = client.get(reverse("accounts:login"))
    assert is_elder(page)
    assert "English" not in page.content.decode()

    client.post(reverse("accounts:login"), {"username": "resident_a1", "password": PASSWORD})
    resident.refresh_from_db()
    assert resident.elder_mode is True
    home = client.get(reverse("communities:my_building"))
    assert is_elder(home)
    assert 'data-testid="elder-tiles"' in home.content.decode()

    # Another device, no cookie: the account remembers.
    other = Client()
    other.post(reverse("accounts:login"), {"username": "resident_a1", "password": PASSWORD})
    assert is_elder(other.get(reverse("communities:my_building")))


def test_the_menu_switch_writes_account_and_device_and_refuses_foreign_next(resident, client_for):
    resident.elder_mode = True
    resident.save(update_fields=["elder_mode"])
    client = client_for(resident)
    assert is_elder(client.get(reverse("communities:my_building")))

    response = client.post(reverse("accounts:elder_mode"), {"on": "0", "next": "https://evil.example/"})
    assert response.url == reverse("home")
    assert client.cookies[COOKIE].value == "0"
    resident.refresh_from_db()
    assert resident.elder_mode is False
    page = client.get(reverse("communities:my_building")).content.decode()
    assert 'data-testid="request-links"' in page
    assert 'data-testid="language-switch"' in page

    assert client.post(reverse("accounts:elder_mode"), {"on": "maybe"}).status_code == 302
    resident.refresh_from_db()
    assert resident.elder_mode is False
