"""No full mobile or ID number anywhere (issue 12, Done-when #1; ARCHITECTURE rule 5).

For every persona (a resident who is also a party group leader and files requests, a registered
resident whose username is their mobile number, community staff, the secretary, a street
official, the district official, an administrator) the test walks

- every page and API endpoint of the URL conf that answers GET (``tests.fuzz.test_hostile_get.walk``:
  the resolver, not a hand list), its ids filled with the first row the persona may see;
- every Excel export those pages link to (``format=xlsx`` / ``.xlsx``), each of which must write
  exactly one EXPORT audit line for that persona;
- Open311 (in the URL conf too) and, for the administrator, every admin changelist, the first row's
  change form and a search by a whole mobile number;
- the text of every notification written meanwhile;

and fails on any run of 11 digits shaped like a mainland mobile number or 18 characters shaped like
an ID number (and, to be sure, any of the seeded values). The reveal (tested in
``tests/communities/test_reveal.py``) is the only way to a full number, and it is a POST.
"""

import re
from io import BytesIO
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Role
from baohe.models import AuditEntry
from communities.models import Resident
from notifications.models import Notification
from partybuilding.models import PartyGroup
from service_requests import services as request_services
from service_requests.models import ServiceRequest
from tests.factories import (
    CategoryFactory,
    CentralHouseholdFactory,
    PartyBranchFactory,
    PartyMemberFactory,
    RoleFactory,
    UserFactory,
)
from tests.fuzz.conftest import DemoIds
from tests.fuzz.test_hostile_get import Sweep, walk
from tests.signin import verified_login

MOBILE_RUN = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
ID_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
EXPORT_LINK = re.compile(r"""href="([^"]*(?:format=xlsx|\.xlsx)[^"]*)\"""")
PERSONAS = (
    "resident",
    "registered",
    "staff_a",
    "secretary_a",
    "street_official_a",
    "district_official",
    "admin_user",
)
# The fewest Excel exports each persona's walk must reach (and audit).
EXPORTS = {
    "resident": 1,
    "registered": 1,
    "staff_a": 2,
    "secretary_a": 2,
    "street_official_a": 5,
    "district_official": 9,
    "admin_user": 10,
}
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/problem+json")


@pytest.fixture
def seeded(district, resident, staff_a):
    """A few rows beyond the small district: a party branch, group (led by the resident), members
    and a central household; requests filed by the resident and on behalf of a neighbour (with
    their notifications); a resident who registered by mobile number (their username)."""
    a1 = district.a1
    branch = PartyBranchFactory(community=a1.community, compounds=[a1.compound])
    leader = PartyMemberFactory(resident=a1.residents[0], branch=branch)
    group = PartyGroup(branch=branch, name="1栋党小组", kind=PartyGroup.Kind.BUILDING, leader=leader)
    group.save()
    group.buildings.set([a1.buildings[0]])
    leader.group = group
    leader.save()
    member = PartyMemberFactory(resident=a1.residents[3], branch=branch, group=group)
    CentralHouseholdFactory(member=member, served_households=a1.households[:2])
    category = CategoryFactory()
    request_services.request_submit(
        by=resident,
        category=category,
        compound=a1.compound,
        description="楼道灯不亮",
        contact_name="张三",
        contact_mobile=a1.residents[0].mobile,
    )
    neighbour = a1.residents[4]
    on_behalf = request_services.request_submit(
        by=staff_a,
        category=category,
        compound=a1.compound,
        description="水管漏水",
        channel=ServiceRequest.Channel.PHONE,
        contact_name=neighbour.name,
        contact_mobile=neighbour.mobile,
    )
    request_services.request_accept(request=on_behalf, by=staff_a)
    registered_record = a1.residents[2]
    registered = UserFactory(username=registered_record.mobile, name="", mobile=registered_record.mobile, email="")
    registered_record.user = registered
    registered_record.save(update_fields=["user"])
    RoleFactory(user=registered, kind=Role.Kind.RESIDENT, community=a1.community)
    return registered


def leaks(text, known):
    """The full numbers in ``text``: shaped like one, or one of the seeded values."""
    found = set(MOBILE_RUN.findall(text)) | set(ID_RUN.findall(text))
    found |= {value for value in known if value in text}
    return sorted(found)


def body_text(response):
    content_type = response.get("Content-Type", "")
    if response.streaming:
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if "spreadsheetml" in content_type:
        book = load_workbook(BytesIO(content))
        values = [str(v) for s in book.worksheets for row in s.iter_rows(values_only=True) for v in row if v]
        props = book.properties
        return " ".join([*values, str(props.creator), str(props.description), str(props.title)])
    if content_type.startswith(TEXT_TYPES):
        return content.decode("utf-8", "replace")
    return ""


class Walker:
    def __init__(self, users, known):
        self.users = users
        self.known = known
        self.found = []
        self.requests = 0
        self.exports = 0
        self.sweep = Sweep.__new__(Sweep)
        self.sweep.users = users
        self.sweep.ids = DemoIds()
        self.sweep.first_ids = {}
        self.sweep.slugs = {}

    def check(self, persona, url, response):
        hits = leaks(body_text(response), self.known)
        if hits:
            self.found.append((persona, url, response.status_code, hits))

    def get(self, client, persona, url):
        self.requests += 1
        response = client.get(url)
        if response.status_code < 500:
            self.check(persona, url, response)
        return response

    def follow_exports(self, client, persona, page_url, response):
        if "text/html" not in response.get("Content-Type", ""):
            return
        for href in sorted(set(EXPORT_LINK.findall(response.content.decode())))[:3]:
            url = urljoin(page_url, href.replace("&amp;", "&"))
            if urlsplit(url).netloc not in ("", "testserver"):
                continue
            # A download of one's own data (我的信息) is a DATA_DOWNLOAD line; anything else an EXPORT.
            written = AuditEntry.objects.filter(action__in=("export", "data_download"))
            before = written.count()
            exported = self.get(client, persona, url)
            if exported.status_code == 200 and "spreadsheetml" in exported.get("Content-Type", ""):
                self.exports += 1
                lines = written.order_by("pk")[before:]
                users = [line.user_id for line in lines]
                if users != [self.users[persona].pk]:
                    self.found.append((persona, url, "export audit", users))

    def pages(self, client, persona):
        for route in walk():
            values = self.sweep.path_values(route, persona)
            url = route.url(values)
            response = self.get(client, persona, url)
            if response.status_code == 200 and not route.is_api:
                self.follow_exports(client, persona, url, response)

    def admin(self, client, persona):
        for model in admin.site._registry:
            info = (model._meta.app_label, model._meta.model_name)
            self.get(client, persona, reverse("admin:{}_{}_changelist".format(*info)))
            first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
            if first is not None:
                self.get(client, persona, reverse("admin:{}_{}_change".format(*info), args=[first]))
        # A search by a whole number finds its row; the page echoes only what the admin typed.
        record = Resident.objects.exclude(user=None).exclude(mobile="").order_by("pk").first()
        for label in ("communities_resident", "accounts_user"):
            url = f"{reverse(f'admin:{label}_changelist')}?q={record.mobile}"
            self.requests += 1
            response = client.get(url)
            text = body_text(response).replace(record.mobile, "")
            hits = leaks(text, self.known)
            if hits or response.status_code != 200 or "1 result" not in text and "1 条结果" not in text:
                self.found.append((persona, url, response.status_code, hits or "not found"))


# One test per persona, so that xdist spreads them over its workers.
@pytest.mark.parametrize("persona", PERSONAS)
def test_no_full_number_on_any_page_api_export_admin_open311_or_notification(
    request,
    persona,
    district,
    seeded,
    client_for,
    staff_a,
    secretary_a,
    street_official_a,
    district_official,
    admin_user,
    settings,
):
    # /metrics answers the monitoring host only (404 to everyone else, as here): it holds counts
    # and timings, whose float fractions would read as digit runs.
    settings.METRICS_ALLOWED_IPS = []
    user = seeded if persona == "registered" else request.getfixturevalue(persona)
    known = {value for pair in Resident.objects.values_list("mobile", "id_number") for value in pair if value}
    known |= {m for m in ServiceRequest.objects.values_list("contact_mobile", flat=True) if m}
    walker = Walker({persona: user}, known)

    client = verified_login(Client(raise_request_exception=False), user)
    walker.pages(client, persona)
    if persona == "admin_user":
        walker.admin(client, persona)

    for title, body in Notification.objects.values_list("title", "body"):
        hits = leaks(f"{title} {body}", known)
        if hits:
            walker.found.append(("notification", title, "-", hits))

    assert walker.found == [], "\n".join(map(str, walker.found))
    assert walker.requests > 200 and walker.exports >= EXPORTS[persona], (walker.requests, walker.exports)
    assert Notification.objects.exists()
    assert AuditEntry.objects.filter(action="view_personal").count() == 0
