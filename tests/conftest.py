"""Shared fixtures: a small fixed district and the personas who work in it.

``district`` builds::

    包河区
    ├── 芜湖路街道 (street A)
    │   ├── 曙光社区 (A1) ── 曙光小区 ── 1栋, 2栋 ── 3 households each ── 2 residents each
    │   └── 宁国路社区 (A2) ── 宁国小区 ── (same shape)
    └── 望湖城街道 (street B)
        └── 望湖社区 (B1) ── 望湖小区 ── (same shape)

Personas (all sign in with ``tests.factories.PASSWORD``): ``resident`` (lives in A1),
``staff_a`` (A1), ``staff_b`` (A2: another community in the same street),
``staff_other_street`` (B1), ``secretary_a`` (A1), ``street_official_a`` (street A),
``district_official``, ``admin_user`` (superuser). ``client_for(user)`` and
``api_client_for(user)`` give signed-in clients; ``client_for`` signs staff in with a verified
second factor (tests/signin.py), as after the code page.

Markers: ``services`` tests are skipped without ``REDIS_URL``, ``e2e`` tests without
``/usr/bin/chromium`` and ``stack`` tests (nginx in front of gunicorn, tests/ops) without
``/usr/sbin/nginx``, openssl or ``REDIS_URL``, unless ``REQUIRE_SERVICES=1`` (and, for e2e and
stack, ``CI``) is set, in which case they run and fail loudly. Everything under ``tests/e2e`` is marked ``e2e``.
"""

import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from communities.models import Resident
from service_requests import reference
from tests import demo_db
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    DistrictFactory,
    HouseholdFactory,
    ResidentFactory,
    RoleFactory,
    StreetFactory,
    UserFactory,
)
from tests.signin import verified_login

CHROMIUM = Path("/usr/bin/chromium")
# Debian's build of Chromium's headless shell (package chromium-headless-shell, the same engine
# without the desktop browser around it; what Playwright itself runs headless): the tests use it
# when it is there. It took 19.7 s of CPU for five browser tests that cost the full browser 37.6 s.
HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")


def browser_binary():
    """The Chromium the browser tests run: the headless shell when installed, else the browser."""
    return HEADLESS_SHELL if HEADLESS_SHELL.exists() else CHROMIUM


NGINX = Path("/usr/sbin/nginx")
E2E_DIR = Path(__file__).resolve().parent / "e2e"


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _shares_fixture_state(item):
    """True when ``item`` uses a module-, class- or package-scoped fixture of ours (e.g. a demo
    copied once for a module): its module's tests must then run on one xdist worker. Plugins'
    fixtures do not count: pytest-django's autouse ``_django_setup_unittest`` is class-scoped and
    in every test's closure, so counting it kept every module on one worker (the six hostile-query
    tests ran one after another, 157 s, while the other worker had run out of work)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        fixture.scope in ("module", "class", "package") and getattr(fixture.func, "__module__", "").startswith("tests.")
        for defs in info.name2fixturedefs.values()
        for fixture in defs
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark e2e and service tests (and skip them where their parts are missing); under
    ``--dist loadgroup`` (CI) keep each module with shared fixture state on one worker and let
    every other test go to whichever worker is free (a slow file's tests, such as the browser
    tests, are then spread over the workers instead of ending the run on one of them)."""
    require_services = _env_flag("REQUIRE_SERVICES")
    in_ci = _env_flag("CI")
    skip_services = pytest.mark.skip(reason="needs REDIS_URL")
    skip_stack = pytest.mark.skip(
        reason=f"needs Debian's nginx at {NGINX} and openssl (apt-get install nginx openssl) and REDIS_URL; "
        "REQUIRE_SERVICES=1 or CI makes this a failure instead"
    )
    skip_e2e = pytest.mark.skip(
        reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk); "
        "REQUIRE_SERVICES=1 or CI makes this a failure instead"
    )
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("services") and not os.environ.get("REDIS_URL") and not require_services:
            item.add_marker(skip_services)
        if item.get_closest_marker("e2e") and not CHROMIUM.exists() and not (require_services or in_ci):
            item.add_marker(skip_e2e)
        if not item.get_closest_marker("xdist_group") and _shares_fixture_state(item):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
        stack_missing = not NGINX.exists() or not shutil.which("openssl") or not os.environ.get("REDIS_URL")
        if item.get_closest_marker("stack") and stack_missing and not (require_services or in_ci):
            item.add_marker(skip_stack)


# The order the run takes (CI runs with --no-loadscope-reorder, which keeps it), so that neither
# xdist worker waits and both end together:
# 1. the tests that need no database, while the first worker migrates;
# 2. the long tests that need no demo, longest first (they wait on workers, nginx and gunicorn while
#    the background seeding of the demo, tests/demo_db.py, and the lint checks use the cores);
# 3. every other test that needs no demo;
# 4. the tests that need the demo (ready by then), longest first, so that the run ends on short ones.
HEAVY_WITHOUT_DEMO = (
    "tests/notifications/test_worker_live.py",
    "tests/test_personal_walk.py",
    "tests/ops/",
    "tests/test_deploy_check.py",
)
HEAVY_WITH_DEMO = (
    "tests/fuzz/test_api_schema.py",
    "tests/fuzz/test_hostile_get.py",
    "tests/ops/test_restore_drill.py",
    "tests/e2e/test_accessibility.py",
    "tests/test_headers.py::test_the_pages_each_role_reaches_run_under_the_policy",
    "tests/e2e/",
)
DEMO_FIXTURES = {"demo", "demo_module", "demo_template"}
DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def _needs_demo(item):
    return bool(DEMO_FIXTURES & set(getattr(item, "fixturenames", ())))


def _run_rank(item):
    def first(prefixes):
        return next((i for i, p in enumerate(prefixes) if item.nodeid.startswith(p)), len(prefixes))

    if _needs_demo(item):
        return (3, first(HEAVY_WITH_DEMO))
    if not (DB_FIXTURES & set(getattr(item, "fixturenames", ()))) and not item.get_closest_marker("django_db"):
        return (0, 0)
    heavy = first(HEAVY_WITHOUT_DEMO)
    return (1, heavy) if heavy < len(HEAVY_WITHOUT_DEMO) else (2, 0)


class HeavyFirst:
    """Registered in ``pytest_configure``: a second ``pytest_collection_modifyitems``, after
    pytest-django's sort (this module's own runs before it, to mark the tests). Also tells
    tests/demo_db.py whether the run needs the demo at all (then the worker that migrates starts
    seeding it at once)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        # A module kept on one worker (an xdist group) is scheduled whole, where its first test
        # stands: it takes the latest rank of its tests (the earliest long-test place within it).
        ranks = {item: _run_rank(item) for item in items}
        grouped = {}
        for item in items:
            group = item.get_closest_marker("xdist_group")
            if group is not None:
                name = group.args[0] if group.args else group.kwargs.get("name")
                grouped.setdefault(name, []).append(item)
        for members in grouped.values():
            latest = max(ranks[item][0] for item in members)
            place = min(ranks[item][1] for item in members if ranks[item][0] == latest)
            for item in members:
                ranks[item] = (latest, place)
        items.sort(key=ranks.__getitem__)  # stable: the order within each rank is pytest-django's
        demo_db.wanted = any(_needs_demo(item) for item in items)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium (:func:`browser_binary`) through Playwright, one per test process: the e2e tests and the nginx
    stack test share it (Playwright's sync API runs one event loop per thread, so a second
    ``sync_playwright()`` in the same worker would fail)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(browser_binary()), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def _portal_language():
    """Every test starts in the portal's own language (zh-hans). A request in English activates
    English for the rest of its thread; without this, a test that runs after one in the same
    worker would build its expectations (and stored notification texts) in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


# --- the registry -----------------------------------------------------------------------------
@dataclass
class CommunityTree:
    """One community with its compound, buildings, households and residents (in creation order)."""

    community: object
    compound: object
    buildings: list = field(default_factory=list)
    households: list = field(default_factory=list)
    residents: list = field(default_factory=list)


@dataclass
class SmallDistrict:
    district: object
    street_a: object
    street_b: object
    a1: CommunityTree
    a2: CommunityTree
    b1: CommunityTree

    @property
    def communities(self):
        return [self.a1.community, self.a2.community, self.b1.community]


def _community_trees(specs):
    """One tree per ``(street, name, code, compound name)``, built level by level with one INSERT
    per model (``_insert_all``): the district is built for about 2,000 tests, and a row at a time
    (with the reference copies dropped after each community, compound and building saved,
    service_requests/reference.py) it cost about 50 ms each. Rows keep the order they had then:
    tree by tree, so A1's come first."""
    trees = []
    for street, name, code, _compound in specs:
        community = CommunityFactory.build(street=street, name=name, code=code)
        trees.append(CommunityTree(community=community, compound=None))
    _insert_all([tree.community for tree in trees])
    for tree, (_street, _name, _code, compound_name) in zip(trees, specs, strict=True):
        tree.compound = CompoundFactory.build(community=tree.community, name=compound_name)
    _insert_all([tree.compound for tree in trees])
    for tree in trees:
        tree.buildings = [BuildingFactory.build(compound=tree.compound, number=number) for number in ("1", "2")]
    _insert_all([building for tree in trees for building in tree.buildings])
    for tree in trees:
        for building in tree.buildings:
            for room in ("101", "102", "201"):
                household = HouseholdFactory.build(building=building, unit=1, room=room)
                tree.households.append(household)
                tree.residents.append(ResidentFactory.build(household=household, relation=Resident.Relation.HEAD))
                tree.residents.append(ResidentFactory.build(household=household, relation=Resident.Relation.SPOUSE))
    _insert_all([household for tree in trees for household in tree.households])
    _insert_all([resident for tree in trees for resident in tree.residents])
    reference.invalidate()  # what saving them one by one would have done
    return trees


def _insert_all(rows):
    """``bulk_create`` with what ``save()`` does first for these models: the scope columns copied
    from the parents (``sync_scope``) and, for a resident, the ID number in capitals. (The blind
    indexes of encrypted numbers are derived attributes, so they go in too.)"""
    for row in rows:
        if hasattr(row, "sync_scope"):
            row.sync_scope()
        if isinstance(row, Resident):
            row.id_number = (row.id_number or "").upper()
    type(rows[0])._default_manager.bulk_create(rows)


@pytest.fixture
def district(db):
    """2 streets; A has communities A1 and A2, B has B1; 1 compound × 2 buildings × 3 households × 2 residents each."""
    baohe = DistrictFactory()
    street_a = StreetFactory(district=baohe, name="芜湖路街道", code="340111001")
    street_b = StreetFactory(district=baohe, name="望湖城街道", code="340111002")
    a1, a2, b1 = _community_trees(
        [
            (street_a, "曙光社区", "340111001001", "曙光小区"),
            (street_a, "宁国路社区", "340111001002", "宁国小区"),
            (street_b, "望湖社区", "340111002001", "望湖小区"),
        ]
    )
    return SmallDistrict(district=baohe, street_a=street_a, street_b=street_b, a1=a1, a2=a2, b1=b1)


# --- personas ---------------------------------------------------------------------------------
@pytest.fixture
def resident(district):
    """A resident of A1 who signs in with their mobile number (or username ``resident_a1``)."""
    record = district.a1.residents[0]
    user = UserFactory(username="resident_a1", name=record.name, mobile=record.mobile)
    record.user = user
    record.save(update_fields=["user"])
    RoleFactory(user=user, resident=True, community=district.a1.community)
    return user


@pytest.fixture
def staff_a(district):
    user = UserFactory(username="staff_a", name="曙光社区网格员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, community=district.a1.community)
    return user


@pytest.fixture
def staff_b(district):
    """Staff of A2: another community in the same street as A1."""
    user = UserFactory(username="staff_b", name="宁国路社区网格员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, community=district.a2.community)
    return user


@pytest.fixture
def staff_other_street(district):
    user = UserFactory(username="staff_other_street", name="望湖社区网格员")
    RoleFactory(user=user, kind=Role.Kind.STAFF, community=district.b1.community)
    return user


@pytest.fixture
def secretary_a(district):
    user = UserFactory(username="secretary_a", name="曙光社区书记")
    RoleFactory(user=user, secretary=True, community=district.a1.community)
    return user


@pytest.fixture
def street_official_a(district):
    user = UserFactory(username="street_official_a", name="芜湖路街道领导")
    RoleFactory(user=user, street_official=True, street=district.street_a)
    return user


@pytest.fixture
def district_official(district):
    user = UserFactory(username="district_official", name="包河区领导")
    RoleFactory(user=user, district_official=True)
    return user


@pytest.fixture
def admin_user(db):
    """A superuser (overrides pytest-django's ``admin_user``, so ``admin_client`` uses it too)."""
    return UserFactory(username="admin", name="管理员", is_superuser=True, is_staff=True)


# --- clients ----------------------------------------------------------------------------------
@pytest.fixture
def client_for(db):
    """``client_for(user)``: a Django test client signed in as ``user`` (session login; for staff
    with a verified second factor, creating their authenticator if they have none)."""

    def make(user):
        return verified_login(Client(), user)

    return make


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's ``admin_client``, signed in with a verified second factor (the admin site
    requires one)."""
    return verified_login(Client(), admin_user)


@pytest.fixture
def api_client_for(db):
    """``api_client_for(user)``: a DRF APIClient authenticated as ``user``."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return make


def pytest_configure(config):
    """Personas and demo logins have passwords; the production hasher would cost about a second
    per user. One fast hasher for the whole session (module-scoped seeds and the background
    seeding of the demo included: tests/demo_db.py uses the same). On
    PostgreSQL, commits do not wait for the disk and flushes are quick (``_QUICK_FLUSH``).

    Throttle counters live in this process's memory, never in a Redis shared with another
    worker (every test client is 127.0.0.1); ``_throttle_counters`` empties them per test."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = [demo_db.FAST_HASHER]
    config.pluginmanager.register(HeavyFirst(), "baohe-heavy-first")
    # The live server (browser tests, the API fuzzer) answers with the headers and the body in two
    # writes; with Nagle's algorithm on, the body waited for the client's delayed ACK of the
    # headers: 40 ms on every answer of a kept-alive connection (48.6 ms against 9.2 ms for a
    # trivial one, measured here). Gunicorn and nginx, which serve the portal, send at once.
    WSGIRequestHandler.disable_nagle_algorithm = True
    if not hasattr(config, "workerinput") and config.pluginmanager.hasplugin("xdist"):
        # The workers name the demo template after the run (tests/demo_db.py); so does the controller.
        if config.getoption("testrunuid", None) is None:
            config.option.testrunuid = demo_db.RUN_ID
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        # A test database need not survive a power cut: COMMIT does not wait for the disk. The
        # transactional tests (live server, browser, worker) commit every row they write.
        database.setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
        _quick_flush_on_postgres()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            demo_db.install_migrate_once()
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-tests"},
    }
    # Each xdist worker keeps its own entries in a default cache on the shared Redis (a test that
    # empties it, tests/caches.py, empties only its own worker's).
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        settings.CACHES["default"] = {**settings.CACHES["default"], "KEY_PREFIX": f"test-{worker}"}


# After every transactional test (live server, browser, demo) Django empties the database with one
# TRUNCATE of every table. PostgreSQL gives each truncated table a new file and syncs it at
# COMMIT: 3–4 seconds for the ~80 tables here, most of them already empty, and about 200 such
# tests. This statement empties only the tables that have rows: one TRUNCATE … CASCADE for the
# large ones and the audit trail (its trigger refuses DELETE, not TRUNCATE), then a DELETE for each
# of the rest (foreign keys are DEFERRABLE INITIALLY DEFERRED, so their order does not matter). Content types and
# permissions stay, so the post_migrate signal after it (about 80 queries that would write the
# same rows again) is left out.
_QUICK_FLUSH = """
DO $flush$
DECLARE t text; has_rows boolean; is_large boolean; large text[] := '{}'; small text[] := '{}';
BEGIN
  FOREACH t IN ARRAY %s LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %%I), EXISTS (SELECT 1 FROM %%I OFFSET 2000)', t, t)
      INTO has_rows, is_large;
    IF is_large OR (has_rows AND t = 'baohe_auditentry') THEN
      large := large || quote_ident(t);
    ELSIF has_rows THEN
      small := small || t;
    END IF;
  END LOOP;
  -- First the large tables (CASCADE empties the tables that point at them), then what is left.
  IF cardinality(large) > 0 THEN
    EXECUTE 'TRUNCATE ' || array_to_string(large, ', ') || ' CASCADE';
  END IF;
  FOREACH t IN ARRAY small LOOP
    EXECUTE format('DELETE FROM %%I', t);
  END LOOP;
END
$flush$
"""
_KEPT_BY_FLUSH = {"django_content_type", "auth_permission"}


def _quick_flush_on_postgres():
    from django.core.management.commands import flush
    from django.db import connections
    from django.db.backends.postgresql.operations import DatabaseOperations

    full_flush = DatabaseOperations.sql_flush
    if getattr(full_flush, "quick", False):
        return
    emit_post_migrate = flush.emit_post_migrate_signal

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        emptied = [table for table in tables if table not in _KEPT_BY_FLUSH]
        if reset_sequences or not emptied:
            return full_flush(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        self.connection.quick_flushed = True
        names = ", ".join("'" + table.replace("'", "''") + "'" for table in emptied)
        return [_QUICK_FLUSH % f"ARRAY[{names}]::text[]"]

    def post_migrate_unless_kept(verbosity, interactive, db, **kwargs):
        if not connections[db].__dict__.pop("quick_flushed", False):
            emit_post_migrate(verbosity, interactive, db, **kwargs)

    sql_flush.quick = True
    DatabaseOperations.sql_flush = sql_flush
    flush.emit_post_migrate_signal = post_migrate_unless_kept


@pytest.fixture(autouse=True)
def _no_cached_roles():
    """Every test starts with no user's roles in the cache (``accounts.roles``): ids are reused
    between tests on SQLite, and a test may change roles without the services."""
    from tests.caches import clear_default_cache

    clear_default_cache()


@pytest.fixture(autouse=True)
def _throttle_counters():
    """Every test starts with no request counted against a throttle."""
    from django.core.cache import caches

    caches["throttle"].clear()


# --- logs: no full mobile number and no SMS code that was sent (issue 11) ------------------------
_MOBILE_IN_LOG = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")
_SENT_CODES = pytest.StashKey[set]()


class _LogLines(logging.Handler):
    """Keeps the text of every record that reaches the root logger's handlers."""

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append("\n".join(filter(None, [record.getMessage(), record.exc_text, record.stack_info])))


def _guard_logs(item):
    """Fail the phase if a log line of it holds a full mobile number or a code an SMS carried."""
    from baohe.sms import LogBackend

    lines = _LogLines()
    root = logging.getLogger()
    root.addHandler(lines)
    try:
        result = yield
    finally:
        root.removeHandler(lines)
    codes = item.stash.setdefault(_SENT_CODES, set())
    for message in LogBackend.outbox:
        if "验证码" in message.body or "code" in message.body.lower():
            codes.update(_SIX_DIGITS.findall(message.body))
    leaks = [line for line in lines.lines if _MOBILE_IN_LOG.search(line) or codes & set(_SIX_DIGITS.findall(line))]
    if leaks:
        pytest.fail("log lines with a full mobile number or an SMS code:\n" + "\n".join(leaks), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _guard_logs(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _guard_logs(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    return (yield from _guard_logs(item))


# --- the Baohe demo, seeded once per test run (tests/demo_db.py) -----------------------------------
@pytest.fixture(scope="session")
def demo_template(django_db_setup, django_db_blocker):
    """``(template database name, DemoRuns)`` on PostgreSQL, ``(None, None)`` on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield None, None
        return
    with django_db_blocker.unblock():
        template, runs = demo_db.build_template(connection)
    yield template, runs
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        from django.db import connections

        with django_db_blocker.unblock():
            connections.close_all()
            demo_db.drop_templates(connection)


@pytest.fixture
def demo(demo_template, transactional_db):
    """The Baohe demo district (``seed_baohe``, run twice), committed so a live server's threads
    see it: a copy of the run's template on PostgreSQL (the test's own changes are flushed
    afterwards by ``transactional_db``); seeded afresh on SQLite."""
    from django.core.management import call_command
    from django.db import connection

    template, _runs = demo_template
    if template is None:
        call_command("seed_baohe", "--quiet-logins")
        return
    demo_db.restore(connection, template)


@pytest.fixture(scope="module")
def demo_module(demo_template, django_db_blocker):
    """The Baohe demo for every test of a module that reads it and writes nothing it keeps
    (each test still runs in its own transaction, rolled back): :class:`tests.demo_db.DemoRuns`.
    One copy of the template on PostgreSQL, emptied after the module; on SQLite, ``seed_baohe``
    twice inside a transaction rolled back after the module. Mark the module
    ``pytest.mark.django_db`` and keep it on one xdist worker (tests/conftest.py does)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    template, runs = demo_template
    with django_db_blocker.unblock():
        if template is None:
            with transaction.atomic():
                yield demo_db.seed_twice()
                transaction.set_rollback(True)
            return
        demo_db.restore(connection, template)
        try:
            yield runs
        finally:
            # As after a transactional test: only the tables with rows, sequences left alone.
            call_command("flush", "--no-input", reset_sequences=False)


def pytest_sessionfinish(session):
    """The xdist controller drops the run's demo template when every worker is done."""
    if hasattr(session.config, "workerinput") or not session.config.getoption("numprocesses", None):
        return
    from django.conf import settings
    from django.db import connection

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        demo_db.drop_templates(connection)
