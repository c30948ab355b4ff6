"""What of a rendered page is Chinese *of ours* (issue 15: English really complete).

A page in English may still show Chinese that people wrote or that names a real place or
person: a compound's name, a resident's words, a reply. It must show no Chinese the portal
itself wrote — labels, buttons, category names, stored notification and timeline texts,
dates. :func:`chinese_of_ours` reads the text a person sees (text nodes and the attributes
read out or shown: title, aria-label, placeholder, alt, value, data-confirm) and returns each
run of Chinese characters that is not a run of some piece of user data in the database.
A run is compared whole, so "办结" on a page is ours even if a resident's description
happens to contain those characters inside a longer run.
"""

import re
from html.parser import HTMLParser

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# The language switcher names Chinese in Chinese (an endonym, as every language switcher does).
LANGUAGE_NAMES = {"中文", "简体中文"}
SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "value", "data-confirm"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self.hidden += 1
        self.parts.extend(value for name, value in attrs if name in SHOWN_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def shown_text(html):
    parser = _Text()
    parser.feed(html)
    return parser.parts


def user_data_runs():
    """Every Chinese run in the data people entered (places, people, requests' own words), not
    in the portal's reference data (categories are translated) nor in texts the portal wrote."""
    from accounts.models import User
    from communities.models import Building, Community, Compound, District, Household, Resident, Street
    from funds.models import Proposal
    from notifications.models import Notification
    from partybuilding.models import PartyBranch, PartyGroup
    from service_requests.models import RequestEvent, ServiceRequest
    from volunteers.models import VolunteerTeam

    values = []
    for model, fields in (
        (District, ("name",)),
        (Street, ("name",)),
        (Community, ("name",)),
        (Compound, ("name", "grid")),
        (Building, ("name",)),
        (Household, ("unit", "room")),
        (Resident, ("name",)),
        (User, ("name",)),
        (PartyBranch, ("name",)),
        (PartyGroup, ("name",)),
        (VolunteerTeam, ("name",)),
        (Proposal, ("title",)),
        (ServiceRequest, ("description", "address", "contact_name", "assignee_label", "rating_comment")),
    ):
        present = [f for f in fields if any(field.name == f for field in model._meta.get_fields())]
        for row in model.objects.values_list(*present):
            values.extend(v for v in row if isinstance(v, str))
    # People's own words in the timeline and the inbox (what the portal wrote is stored as text).
    values.extend(RequestEvent.objects.filter(message_text={}).values_list("message", flat=True))
    values.extend(Notification.objects.filter(body_text={}).values_list("body", flat=True))
    runs = set(LANGUAGE_NAMES)
    for value in values:
        runs.update(CJK.findall(value or ""))
    return runs


def chinese_of_ours(html, allowed):
    """{run: the text around it} for every Chinese run on the page that is not user data."""
    found = {}
    for part in shown_text(html):
        for match in CJK.finditer(part):
            run = match.group(0)
            if run in allowed or _truncated(run, part[match.end() :], allowed):
                continue
            found.setdefault(run, " ".join(part.split())[:120])
    return found


def _truncated(run, after, allowed):
    """A run cut short by ``truncatechars`` ("…请尽快维…"): the start of a run of user data."""
    return after.startswith("…") and any(whole.startswith(run) for whole in allowed)
