"""The sidebar and the user's menu are kept per process (``accounts.navigation``): what a page
shows from the kept text is what the templates render afresh, for every persona, section and
language; the unread count, the CSRF token and the return address are this request's."""

import re

import pytest
from django.urls import reverse

from accounts import navigation
from notifications.models import Notification

pytestmark = pytest.mark.django_db

PERSONAS = ["staff_a", "secretary_a", "street_official_a", "district_official", "admin_user"]
PAGES = ["service_requests:queue", "todo", "notifications:list", "meetings:list"]


def chrome_and_sidebar(response):
    """The user's menu and the sidebar of a page, with this response's CSRF tokens blanked
    (Django masks the token afresh for every response)."""
    body = response.content.decode()
    menu = re.search(
        r'<div class="d-flex align-items-center gap-2" id="user-chrome">(.*?)</div>\n    </div>\n  </div>\n</nav>',
        body,
        re.S,
    )
    sidebar = re.search(r'<div class="offcanvas-body p-0" id="sidebar-nav">(.*?)</aside>', body, re.S)
    assert menu and sidebar
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", menu.group(1) + sidebar.group(1))


def test_kept_navigation_is_what_the_templates_render(request, client_for, settings):
    """Each persona's pages, in both languages, served from texts kept while every persona
    visited them (so a user attribute missing from the key would show another's menu), equal
    the templates' fresh rendering."""
    settings.DEBUG = False
    clients = {persona: client_for(request.getfixturevalue(persona)) for persona in PERSONAS}
    visits = [(persona, name, language) for language in ("zh-hans", "en") for name in PAGES for persona in PERSONAS]
    navigation._kept.clear()
    for persona, name, language in visits:
        clients[persona].cookies[settings.LANGUAGE_COOKIE_NAME] = language
        assert clients[persona].get(reverse(name)).status_code == 200, (persona, name)
    for persona, name, language in visits:
        client = clients[persona]
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        kept = client.get(reverse(name))
        texts = dict(navigation._kept)
        navigation._kept.clear()
        fresh = client.get(reverse(name))
        navigation._kept.update(texts)
        assert chrome_and_sidebar(kept) == chrome_and_sidebar(fresh), (persona, name, language)


def test_unread_count_return_address_and_token_are_this_requests(staff_a, client_for, settings):
    settings.DEBUG = False
    client = client_for(staff_a)
    page = client.get(reverse("service_requests:queue"), {"status": "all"}).content.decode()
    assert 'data-testid="unread-count"' not in page and "text-bg-danger ms-1" not in page
    assert 'name="next" value="/requests/queue/?status=all"' in page
    Notification.objects.create(recipient=staff_a, kind="test", title="测试", dedupe_key="test:1")
    page = client.get(reverse("service_requests:queue"), {"status": "open", "q": '"<x>'}).content.decode()
    assert '<span data-testid="unread-count">1</span>' in page  # the menu
    assert '<span class="badge rounded-pill text-bg-danger ms-1">1</span>' in page  # the sidebar
    assert 'name="next" value="/requests/queue/?status=open&amp;q=%22%3Cx%3E"' in page
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert token and navigation.CSRF_MARK not in page and navigation.NEXT_MARK not in page
    assert navigation.UNREAD_MARK not in page
