"""The user's roles come from the cache between requests (``accounts.roles``), and a role changed
through the services or the admin applies on the very next request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.audit import role_changed, role_values
from accounts.models import Role
from accounts.roles import roles_of

pytestmark = pytest.mark.django_db


def role_queries(captured):
    return [q for q in captured.captured_queries if 'FROM "accounts_role"' in q["sql"]]


def test_roles_are_read_once_then_from_the_cache_until_a_role_changes(district, street_official_a, client_for):
    client = client_for(street_official_a)
    street_a = f"/dashboard/street/{district.street_a.pk}/chart-data/"
    street_b = f"/dashboard/street/{district.street_b.pk}/chart-data/"
    assert client.get(street_a).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(street_a).status_code == 200
    assert role_queries(captured) == []  # from the cache
    assert client.get(street_b).status_code == 404

    # The admin moves the official to street B (role_changed: the audit line and the cache).
    role = Role.objects.get(user=street_official_a)
    before = role_values(role)
    role.street = district.street_b
    role.save()
    role_changed(by=None, role=role, before=before)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(street_b).status_code == 200
    assert len(role_queries(captured)) == 1  # read again, once
    assert client.get(street_a).status_code == 404  # and nothing of street A any more

    # Deleted: the next request has no role (403 on the dashboard).
    role_changed(by=None, role=role, deleted=True)
    role.delete()
    assert client.get(street_b).status_code == 403


def test_roles_of_reads_the_database_when_the_cache_is_off(street_official_a, settings):
    settings.ROLES_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as captured:
        roles_of(street_official_a)
        roles_of(street_official_a)
    assert len(role_queries(captured)) == 2
