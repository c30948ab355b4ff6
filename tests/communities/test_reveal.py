"""Revealing one resident's full numbers (issue 12): page button and API endpoint, with a reason,
one audit line each; 404 outside scope, 403 for who may only view; throttled per user; the edit
form never shows the old number."""

import re
from html import unescape

from django.test import override_settings
from django.urls import reverse

from baohe.models import AuditEntry
from communities.models import Resident


def text_of_testid(response, testid):
    return [unescape(t).strip() for t in re.findall(rf'data-testid="{testid}">([^<]*)<', response.content.decode())]


def audit_lines():
    return list(
        AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN)
        .order_by("pk")
        .values_list("user__username", "action", "object_type", "object_id", "reason", "ip_address")
    )


# --- the page ---------------------------------------------------------------------------------------
def test_staff_reveal_on_the_page_shows_the_full_numbers_once_and_audits_it(district, staff_a, client_for):
    record = district.a1.residents[0]
    client = client_for(staff_a)
    url = reverse("communities:resident_reveal", args=[record.pk])

    response = client.post(url, {"reason": "visit"}, REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    assert text_of_testid(response, "mobile") == [record.mobile]
    assert text_of_testid(response, "id-number") == [record.id_number]
    assert "入户走访核实" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert audit_lines() == [("staff_a", "view_personal", "communities.resident", str(record.pk), "visit", "10.1.2.3")]
    again = client.get(reverse("communities:resident", args=[record.pk]))
    assert record.mobile not in again.content.decode()
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 1


def test_a_reveal_without_a_known_reason_is_refused_and_not_audited(district, staff_a, client_for):
    record = district.a1.residents[0]
    url = reverse("communities:resident_reveal", args=[record.pk])

    for data in ({}, {"reason": "curious"}):
        response = client_for(staff_a).post(url, data)
        assert response.status_code == 400
        assert record.mobile not in response.content.decode()
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 0


def test_page_reveal_404_outside_scope_403_for_view_only_and_nothing_audited(
    district, staff_b, street_official_a, client_for
):
    record = district.a1.residents[0]
    url = reverse("communities:resident_reveal", args=[record.pk])

    assert client_for(staff_b).post(url, {"reason": "visit"}).status_code == 404
    response = client_for(street_official_a).post(url, {"reason": "visit"})
    assert response.status_code == 403
    assert record.mobile not in response.content.decode()
    assert client_for(staff_b).get(url).status_code == 405
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 0


# --- the API ----------------------------------------------------------------------------------------
def test_api_reveal_answers_the_full_numbers_and_writes_one_audit_line(district, staff_a, api_client_for):
    record = district.a1.residents[0]

    response = api_client_for(staff_a).post(
        f"/api/v1/residents/{record.pk}/reveal/", {"reason": "request"}, format="json", REMOTE_ADDR="10.9.8.7"
    )

    assert (response.status_code, response.json()) == (200, {"mobile": record.mobile, "id_number": record.id_number})
    assert audit_lines() == [
        ("staff_a", "view_personal", "communities.resident", str(record.pk), "request", "10.9.8.7")
    ]
    listed = api_client_for(staff_a).get("/api/v1/residents/", {"page_size": 200}).json()["results"]
    assert record.mobile not in str(listed) and record.id_number not in str(listed)


def test_api_reveal_refusals(district, staff_a, staff_b, street_official_a, resident, api_client_for):
    record = district.a1.residents[0]
    url = f"/api/v1/residents/{record.pk}/reveal/"

    bad = api_client_for(staff_a).post(url, {"reason": "nosy"}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()
    assert api_client_for(staff_b).post(url, {"reason": "visit"}, format="json").status_code == 404
    assert api_client_for(street_official_a).post(url, {"reason": "visit"}, format="json").status_code == 403
    assert api_client_for(resident).post(url, {"reason": "visit"}, format="json").status_code in (403, 404)
    assert api_client_for(staff_a).post("/api/v1/residents/999999999/reveal/", {"reason": "visit"}).status_code == 404
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 0


@override_settings()
def test_reveals_are_throttled_per_user_page_and_api_together(district, staff_a, client_for, api_client_for, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "reveal": "2/hour"},
    }
    record = district.a1.residents[0]
    page = reverse("communities:resident_reveal", args=[record.pk])
    client = client_for(staff_a)

    assert client.post(page, {"reason": "visit"}).status_code == 200
    api = api_client_for(staff_a).post(f"/api/v1/residents/{record.pk}/reveal/", {"reason": "visit"}, format="json")
    assert api.status_code == 200
    refused = client.post(page, {"reason": "visit"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert record.mobile not in refused.content.decode()
    again = api_client_for(staff_a).post(f"/api/v1/residents/{record.pk}/reveal/", {"reason": "visit"}, format="json")
    assert again.status_code == 429
    assert AuditEntry.objects.exclude(action=AuditEntry.Action.LOGIN).count() == 2


# --- the edit form -------------------------------------------------------------------------------------
def test_edit_form_never_shows_the_old_numbers_and_empty_keeps_them(district, staff_a, client_for):
    record = district.a1.residents[0]
    client = client_for(staff_a)
    url = reverse("communities:resident_edit", args=[record.pk])

    html = client.get(url).content.decode()
    assert record.mobile not in html and record.id_number not in html
    assert f"{record.mobile[:3]}****{record.mobile[-4:]}" in html

    data = {"household": record.household_id, "name": "改名", "mobile": "", "id_number": "", "relation": "head"}
    assert client.post(url, data).status_code == 302
    saved = Resident.objects.get(pk=record.pk)
    assert (saved.name, saved.mobile, saved.id_number) == ("改名", record.mobile, record.id_number)

    data.update(mobile="13700001234")
    assert client.post(url, data).status_code == 302
    assert Resident.objects.get(pk=record.pk).mobile == "13700001234"
