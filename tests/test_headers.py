"""Security headers (issue 11): what a browser is told, and templates that keep it true.

- Content-Security-Policy (django-csp): scripts, styles, images, fonts and requests from the
  portal only, a fresh nonce per page on its <script> tags, no 'unsafe-inline'/'unsafe-eval';
  Permissions-Policy turns off camera, microphone, geolocation, payment, USB…;
  Referrer-Policy same-origin; HSTS and the HTTPS redirect when configured (/healthz exempt).
- ``Cache-Control: no-store`` on every answer to a signed-in user (page, API, photo), not on
  anonymous ones.
- No template in templates/ or */templates/ has an inline <script> body, an on*= handler, a
  style="" attribute, a <style> block, hx-on or a javascript: URL: a new one fails here, in CI,
  before a browser refuses it. The pages a staff member, an official, the administrator and a
  resident reach from their menus are rendered and checked the same way (markup written by
  Python too).
- /api/schema/ and /api/docs/: staff only (setting API_DOCS_PUBLIC opens them).
"""

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from PIL import Image

from accounts.models import Role, User
from service_requests import services
from service_requests.models import Category, ServiceRequest
from tests.signin import verified_login

NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")
OFF_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


def directives(response):
    header = response["Content-Security-Policy"]
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_strict_csp(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header
    return policy


def assert_private(response):
    control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private", "no-cache", "max-age=0"} <= control, response["Cache-Control"]


class Tags(HTMLParser):
    """Start tags as ``(name, {attribute: value})``; ``bodies``: each <script>'s or <style>'s
    text with that tag's attributes."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags, self.bodies, self._open = [], [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open = (tag, dict(attrs)) if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._open = None

    def handle_data(self, data):
        if self._open and data.strip():
            self.bodies.append((*self._open, data.strip()[:80]))


def inline_problems(html, nonce=None):
    """What a strict CSP would refuse in rendered ``html``: inline scripts and styles, handlers,
    style attributes, javascript: URLs, and script tags with another page's nonce. A
    ``type="application/json"`` script (json_script) is data, never run: allowed."""
    found = []
    parsed = Tags(html)
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith("hx-on"):
                found.append(f"<{tag} {name}=…>")
            elif name == "style":
                found.append(f'<{tag} style="{value}">')
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                found.append(f"<{tag} {name}={value}>")
        if tag == "style":
            found.append("<style> block")
        if tag == "script" and attrs.get("type") != "application/json":
            if not attrs.get("src"):
                found.append("<script> without src")
            elif nonce and attrs.get("nonce") not in (None, nonce):
                found.append(f"<script src={attrs['src']}> with another page's nonce")
    for tag, attrs, body in parsed.bodies:
        if tag == "script" and attrs.get("type") != "application/json":
            found.append(f"inline script: {body}")
    return found


# --- templates ---------------------------------------------------------------------------------
TEMPLATE_RULES = {
    "inline <script> body (put it in static/js/)": re.compile(
        r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>"
    ),
    "on*= event handler (bind it in static/js/)": re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S),
    'style="" attribute (use a class from static/css/)': re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.S),
    "<style> block (put it in static/css/)": re.compile(r"<style[\s>]"),
    "hx-on attribute (bind it in static/js/)": re.compile(r"\shx-on"),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


DJANGO_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def without_comments(text):
    """The template with its Django comments blanked (line numbers kept): a comment may name a
    <script> or <style> it is explaining."""
    return DJANGO_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def template_files():
    base = Path(settings.BASE_DIR)
    roots = [base / "templates", *base.glob("*/templates")]
    return sorted(p for root in roots for p in root.rglob("*.html") if ".venv" not in p.parts)


def test_templates_are_found():
    names = {p.relative_to(settings.BASE_DIR).as_posix() for p in template_files()}
    assert "templates/base.html" in names
    assert "templates/meetings/minutes.html" in names
    assert len(names) > 50


@pytest.mark.parametrize("rule", list(TEMPLATE_RULES))
def test_no_template_has_inline_script_handler_or_style(rule):
    pattern = TEMPLATE_RULES[rule]
    hits = []
    for path in template_files():
        text = without_comments(path.read_text())
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            hits.append(f"{path.relative_to(settings.BASE_DIR)}:{line}: {match.group(0)[:80]!r}")
    assert not hits, f"{rule}; the Content-Security-Policy refuses it:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    "snippet",
    [
        '<select name="x" onchange="this.form.submit()">',
        '<td\n  style="width: 3rem">',
        "<script>alert(1)</script>",
        '<script nonce="{{ request.csp_nonce }}">go()</script>',
        "<style>.a { color: red }</style>",
        '<a href="javascript:void(0)">',
        '<button hx-on:click="go()">',
    ],
)
def test_the_template_rules_catch_what_they_name(snippet):
    assert any(pattern.search(snippet) for pattern in TEMPLATE_RULES.values()), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="{% static \'js/portal.js\' %}" nonce="{{ request.csp_nonce }}"></script>',
        '<select name="x" data-autosubmit>',
        '<div class="progress-bar w-pct-{{ percent }}"></div>',
        "{{ chart|json_script:'chart-data' }}",
        "<p>按钮 onclick 不用了</p>",
    ],
)
def test_the_template_rules_let_the_allowed_forms_pass(snippet):
    assert not any(pattern.search(snippet) for pattern in TEMPLATE_RULES.values()), snippet


def test_no_widget_attrs_carry_handlers_or_styles():
    """Markup written in Python (form widgets' attrs) obeys the same rule."""
    pattern = re.compile(r"""["'](on[a-z]+|style)["']\s*:""")
    hits = []
    for path in Path(settings.BASE_DIR).glob("*/**/*.py"):
        if path.parts[len(Path(settings.BASE_DIR).parts)] in (".venv", "tests", "bench", "var", "static"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and "attrs" in line:
                hits.append(f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}")
    assert not hits, "\n".join(hits)


# --- headers on pages --------------------------------------------------------------------------
@pytest.fixture
def category(db):
    parent = Category.objects.create(name="公共设施", code="facilities", order=1)
    return Category.objects.create(
        parent=parent, name="楼道灯", code="light", accept_within_hours=2, resolve_within_days=1
    )


@pytest.fixture
def photo_request(district, category, staff_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return services.request_submit(
        by=staff_a,
        category=category,
        description="楼道灯不亮",
        compound=district.a1.compound,
        building=district.a1.buildings[0],
        contact_name="王阿姨",
        contact_mobile="13900001111",
        channel=ServiceRequest.Channel.PHONE,
        photos=[SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")],
    )


def test_a_staff_page_has_the_strict_policy_and_its_scripts_the_nonce(client_for, staff_a):
    response = client_for(staff_a).get(reverse("service_requests:queue"))

    assert response.status_code == 200
    policy = assert_strict_csp(response)
    nonce = NONCE.fullmatch(policy["script-src"][1]).group(1)
    scripts = [attrs for tag, attrs in Tags(response.content.decode()).tags if tag == "script"]
    assert len(scripts) >= 4
    assert all(attrs.get("src", "").startswith("/static/") and attrs.get("nonce") == nonce for attrs in scripts)
    assert inline_problems(response.content.decode(), nonce) == []
    # A fresh nonce for every response.
    again = directives(client_for(staff_a).get(reverse("service_requests:queue")))["script-src"][1]
    assert again != policy["script-src"][1]


def test_every_page_says_no_to_unused_browser_features(client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert_strict_csp(response)
    features = dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))
    for feature in OFF_FEATURES:
        assert features[feature] == "()", feature
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_signed_in_pages_are_never_stored(client_for, staff_a, resident):
    assert_private(client_for(staff_a).get(reverse("service_requests:queue")))
    assert_private(client_for(resident).get(reverse("home"), follow=True))
    # Redirects and errors to a signed-in user too (an API 404 is rewritten by ApiErrorMiddleware).
    assert_private(client_for(staff_a).get("/api/v1/no-such-thing/"))


def test_api_answers_to_a_token_user_are_never_stored(api_client_for, staff_a):
    response = api_client_for(staff_a).get("/api/v1/requests/")

    assert response.status_code == 200
    assert_private(response)


def test_anonymous_answers_may_be_cached(client, district):
    response = client.get("/open311/v2/services.json")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_photo_is_never_stored(client_for, staff_a, photo_request):
    photo = photo_request.attachments.get()

    response = client_for(staff_a).get(reverse("service_requests:attachment", args=[photo.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert_private(response)


def test_hsts_and_the_https_redirect_when_configured(settings, district):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    client = Client()

    plain = client.get("/accounts/login/")
    secure = client.get("/accounts/login/", secure=True)
    probe = client.get("/healthz")

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert probe.status_code in (200, 503)  # a load balancer's http probe is answered, not redirected


def test_no_hsts_in_development(client):
    # Tests run with the development defaults (DEBUG unset): no HSTS, no redirect.
    response = client.get("/accounts/login/", secure=True)

    assert "Strict-Transport-Security" not in response


# --- the pages each role reaches ---------------------------------------------------------------
SKIP_PREFIXES = ("/accounts/logout/", "/i18n/", "/static/", "/media/", "/admin/logout/")


def reachable_pages(client, start, limit=40):
    """GET ``start`` and the pages its links lead to (two clicks deep), one page per URL name."""
    seen_names, queue, pages = set(), [start], []
    while queue and len(pages) < limit:
        url = queue.pop(0)
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            continue
        key = (match.namespace, match.url_name)
        if key in seen_names:
            continue
        seen_names.add(key)
        response = client.get(url)
        if response.status_code in (301, 302) and response["Location"].startswith("/"):
            seen_names.discard(key)  # the page it leads to is what counts
            queue.insert(0, response["Location"])
            continue
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages.append((url, response))
        for tag, attrs in Tags(response.content.decode()).tags:
            href = attrs.get("href") or ""
            if tag == "a" and href.startswith("/") and not href.startswith(SKIP_PREFIXES):
                queue.append(href)
    return pages


# The fewest pages each role must reach two clicks from its start page.
REACHES = {"staff_qinghua": 30, "district": 30, "admin": 50, "resident": 8}


@pytest.mark.parametrize("who", list(REACHES))
def test_the_pages_each_role_reaches_run_under_the_policy(who, demo):
    """Staff, the district official, the administrator (admin site included) and a resident:
    every kind of page two clicks from their start page (one test per role, so the workers
    share them)."""
    problems = []
    if who == "resident":
        user = User.objects.filter(roles__kind=Role.Kind.RESIDENT).order_by("pk").first()
    else:
        user = User.objects.get(username=who)
    client = verified_login(Client(), user)
    pages = reachable_pages(client, reverse("home"))
    if who == "admin":
        pages += reachable_pages(client, "/admin/", limit=30)
    for url, response in pages:
        policy = assert_strict_csp(response)
        assert_private(response)
        assert "Permissions-Policy" in response, url
        nonce = next((m.group(1) for v in policy["script-src"] if (m := NONCE.fullmatch(v))), None)
        problems += [f"{who} {url}: {p}" for p in inline_problems(response.content.decode(), nonce)]

    assert len(pages) >= REACHES[who]
    assert not problems, "\n".join(problems)


# --- API schema and docs -----------------------------------------------------------------------
def test_api_schema_needs_staff(client, client_for, resident, staff_a, district_official):
    anonymous = client.get("/api/schema/")
    assert anonymous.status_code in (401, 403)
    assert anonymous["Content-Type"].startswith("application/json")
    assert anonymous.json()["detail"]

    refused = client_for(resident).get("/api/schema/")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "接口文档仅供社区工作人员查看。"}

    for user in (staff_a, district_official):
        answer = client_for(user).get("/api/schema/", {"format": "json"})
        assert answer.status_code == 200
        assert answer.json()["info"]["title"] == "和美社区 API"


def test_api_docs_page_needs_staff_and_runs_under_the_policy(client, client_for, resident, staff_a):
    anonymous = client.get("/api/docs/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login") + "?next=/api/docs/")

    assert client_for(resident).get("/api/docs/").status_code == 403

    staff = client_for(staff_a)
    page = staff.get("/api/docs/")
    assert page.status_code == 200
    assert_strict_csp(page)
    assert_private(page)
    html = page.content.decode()
    assert inline_problems(html) == []
    scripts = [attrs["src"] for tag, attrs in Tags(html).tags if tag == "script"]
    assert scripts[-1] == "/api/docs/?script="
    init = staff.get(scripts[-1])
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()
    assert_private(init)


def test_the_browsable_api_runs_under_the_policy(client_for, staff_a, district):
    """DRF's HTML pages (templates/rest_framework/api.html drops DRF's two style attributes)."""
    response = client_for(staff_a).get("/api/v1/compounds/", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert_strict_csp(response)
    assert_private(response)
    html = response.content.decode()
    assert 'class="btn btn-default drf-pull-right"' in html  # the filters button, styled by a class
    assert inline_problems(html) == []


def test_api_docs_public_opens_them(client, settings):
    settings.API_DOCS_PUBLIC = True

    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
