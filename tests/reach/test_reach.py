"""Reaching the people who serve one's building: the building head publishes their number (a
consent, withdrawable, audited) and the residents of their building then see it in full as a
``tel:`` link; others keep the masked form. Messages: a thread between the two parties only."""

import pytest
from django.urls import reverse

from accounts.models import Role
from baohe.models import AuditEntry
from notifications.models import Notification
from reach.models import ContactConsent, ContactThread
from tests.factories import RoleFactory, UserFactory


@pytest.fixture
def head(district):
    """The head of building 1 of 曙光小区 (A1), with an account."""
    record = district.a1.residents[2]  # building 1, household 2
    user = UserFactory(username="head_a1", name=record.name, mobile=record.mobile)
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory(user=user, resident=True, community=district.a1.community)
    building = district.a1.buildings[0]
    building.head = record
    building.save(update_fields=["head"])
    return user


@pytest.fixture
def neighbour_other_building(district):
    """A resident of building 2 of the same compound."""
    record = district.a1.residents[6]
    user = UserFactory(username="resident_a1_b2", name=record.name, mobile=record.mobile)
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory(user=user, kind=Role.Kind.RESIDENT, community=district.a1.community)
    return user


def tel_links(client):
    html = client.get(reverse("communities:my_building")).content.decode()
    return html, [part.split('"', 1)[0] for part in html.split('href="tel:')[1:]]


def test_the_heads_number_reaches_their_building_only_after_consent_and_until_withdrawn(
    district, resident, head, neighbour_other_building, client_for
):
    number = district.a1.residents[2].mobile
    mine, other = client_for(resident), client_for(neighbour_other_building)

    html, links = tel_links(mine)
    assert links == []
    assert number not in html
    assert f"{number[:3]}****{number[-4:]}" in html

    head_client = client_for(head)
    page = head_client.get(reverse("reach:mine")).content.decode()
    assert 'data-testid="consent-building_head"' in page
    head_client.post(
        reverse("reach:consent"), {"resident": district.a1.residents[2].pk, "role": "building_head", "give": "1"}
    )
    consent = ContactConsent.objects.get()
    assert (consent.role, consent.given_by, consent.withdrawn_at) == ("building_head", head, None)

    html, links = tel_links(mine)
    assert links == [number]
    shown = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW_PERSONAL, user=resident)
    assert [(line.object_type, line.object_id) for line in shown] == [
        ("communities.resident", str(district.a1.residents[2].pk))
    ]
    # A resident of building 2 is not served by this head: no number, not even masked.
    html, links = tel_links(other)
    assert links == []
    assert number not in html

    head_client.post(
        reverse("reach:consent"), {"resident": district.a1.residents[2].pk, "role": "building_head", "give": "0"}
    )
    html, links = tel_links(mine)
    assert links == []
    assert number not in html
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    trail = AuditEntry.objects.filter(user=head, object_type="reach.contactconsent").order_by("pk")
    assert [line.action for line in trail] == [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE]
    # 我的信息 lists the consent with both dates.
    assert "号码公开同意" in head_client.get(reverse("communities:my_data")).content.decode()


def test_someone_who_serves_no_one_cannot_consent(district, resident, client_for):
    client = client_for(resident)
    client.post(
        reverse("reach:consent"), {"resident": district.a1.residents[0].pk, "role": "building_head", "give": "1"}
    )
    # Another person's record: 404, nothing written.
    response = client.post(
        reverse("reach:consent"), {"resident": district.a1.residents[2].pk, "role": "building_head", "give": "1"}
    )
    assert response.status_code == 404
    assert ContactConsent.objects.count() == 0


def test_a_message_thread_is_seen_by_its_two_parties_only(
    district, resident, head, neighbour_other_building, staff_a, client_for
):
    server = district.a1.residents[2]
    write_url = reverse("reach:write", args=["building_head", server.pk])
    mine = client_for(resident)
    response = mine.post(write_url, {"body": "楼道灯坏了，麻烦看一下。"})
    thread = ContactThread.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("reach:thread", args=[thread.pk])
    told = Notification.objects.get(recipient=head)
    assert (told.kind, told.link) == ("reach:message", thread.get_absolute_url())

    head_client = client_for(head)
    assert "楼道灯坏了" in head_client.get(thread.get_absolute_url()).content.decode()
    head_client.post(thread.get_absolute_url(), {"body": "明天上午来修。"})
    assert Notification.objects.filter(recipient=resident, kind="reach:message").count() == 1
    assert [m.body for m in thread.messages.all()] == ["楼道灯坏了，麻烦看一下。", "明天上午来修。"]

    # Anyone else: 404, staff of the community too; a resident the head does not serve cannot write.
    for outsider in (neighbour_other_building, staff_a):
        client = client_for(outsider)
        assert client.get(thread.get_absolute_url()).status_code == 404
        assert client.post(thread.get_absolute_url(), {"body": "x"}).status_code == 404
    assert client_for(neighbour_other_building).post(write_url, {"body": "你好"}).status_code == 404
    assert thread.messages.count() == 2


@pytest.mark.parametrize("threads", [2, 20])
def test_the_servers_page_lists_threads_in_flat_queries(
    district, head, threads, client_for, django_assert_max_num_queries
):
    server = district.a1.residents[2]
    for index in range(threads):
        record = district.a1.residents[index % 6]
        author = UserFactory(username=f"writer{index}")
        ContactThread.objects.create(
            author=author,
            household=record.household,
            server=server,
            role="building_head",
            last_message_at=server.created_at,
        )
    client = client_for(head)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("reach:mine"))
    assert response.content.decode().count('class="list-group-item list-group-item-action"') == threads
