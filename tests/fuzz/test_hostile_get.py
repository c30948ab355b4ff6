"""Hostile query strings never get a server error, on any page, export or API (issue 10, rule 4).

The test walks the URL conf (``get_resolver()``; not admin, static, i18n, logout or the API schema
and docs) on the seeded demo and, for every pattern that answers GET, as a resident, a district
official and staff (Django's test client, in process):

1. fills the path: an id with the first row of its model the role may see (``DemoIds``), other
   parts with the first of the values in :data:`SLUGS`; then asks the pattern again with the
   first row of all, ``1``, a missing id, a 30-digit id and ``²`` (where more than digits match);
2. where that page answers 2xx, asks it with query strings Hypothesis draws (a fixed seed per
   pattern, role and kind of value), once per kind in :data:`HOSTILE`: on a page, every name
   the view reads gets a value of that kind (a page ignores each bad value on its own); on the
   API, one or two of them do (one bad filter refuses the whole query), twice. The names are
   those the view declares (fields of its QueryForm, FilterSet or parameter serializer, names it
   ``.get()``s from the query, :data:`COMMON_NAMES` written in its code or in the project code
   it calls) or, for a view that declares none, :data:`COMMON_NAMES`; plus maybe a random one.

Every answer must be below 500, and a 200 in JSON or XML must parse. Failures are collected, not
stopped at, and reported together, grouped by pattern and error, with one request to reproduce each.
About 4,400 requests in six tests (role × pages or API, so the workers share them);
``PAGE_EXAMPLES``/``API_EXAMPLES`` trade time for depth.
"""

import inspect
import json
import re
import time
import types
import zlib
from collections import defaultdict
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

import django_filters
import pytest
from django import forms
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from rest_framework import serializers

from tests.fuzz.conftest import ROLES
from tests.signin import verified_login

PAGE_EXAMPLES, API_EXAMPLES = 1, 2  # query strings per pattern, role and kind of value
SKIPPED = ("admin/", "static/", "media/", "i18n/", "api/docs", "api/schema", "accounts/logout/")
HOSTILE = {
    "digits": ("²", "¹²", "١٢", "٣"),  # digits to str.isdigit(), not to int()
    "numbers": ("9" * 30, "9e15", "1e400", "-1", "0"),  # out of every range
    "control": ("\x00", "\x01", "\x07", "\x1b"),
    "cursors": ("cD0xfDI=", "Zm9v", "!!!"),  # base64 of "p=1|2", of "foo"; not base64
    "dates": ("1217-10-28T13:12:37+16:11", "0000-01-01", "9999-12-31T23:59:59-23:59", "2026-13-45"),
}
COMMON_NAMES = (
    *("category", "building", "compound", "community", "street", "household", "year", "month", "period"),
    *("page", "page_size", "cursor", "after", "ordering", "sort", "format", "status", "kind", "q"),
    *("requests", "plan", "unread", "due", "mine", "scheduled_before", "visited_before", "starts_before"),
    *("start_date", "end_date", "service_request_id", "service_code"),
)
MISSING_ID, HUGE_ID = 2**31 - 1, "9" * 30
# Path parts that are not ids, and the values the views accept there (read when first needed).
SLUGS = {
    "fmt": lambda: ["json", "xml"],
    "kind": lambda: list(_module("partybuilding.selectors").COVERAGE_KINDS),
    "name": lambda: list(_module("dashboard.tables").BUILDERS),  # dashboard tables (request steps are POST)
    "metric": lambda: list(_module("dashboard.lists").SPECS),
    "code": lambda: _first("service_requests.Category", "code"),
    "request_id": lambda: _first("service_requests.ServiceRequest", "number"),
    "token": lambda: ["no-such-token"],
}
_READS = re.compile(r"""(?:GET|query_params|query|params)\.get(?:list)?\(\s*["'](\w+)["']|GET\[\s*["'](\w+)["']""")
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>([^)]*)\)")  # <conv:name>, or (?P<name>regex)


def _module(name):
    return __import__(name, fromlist=["_"])


def _first(label, field):
    return list(apps.get_model(label).objects.order_by("pk").values_list(field, flat=True)[:1])


# --- the URL conf ------------------------------------------------------------------------------------
class Route:
    """One URL pattern: its text, view and path parameters."""

    def __init__(self, text, pattern):
        self.text = text
        self.callback = pattern.callback
        self.view_class = getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)
        self.app_label = self.callback.__module__.split(".")[0]
        self.converters = getattr(pattern.pattern, "converters", {})
        self.is_api = text.startswith("api/")

    @property
    def answers_get(self):
        actions = getattr(self.callback, "actions", None)
        if actions is not None:
            return "get" in actions
        if self.view_class is not None:
            return hasattr(self.view_class, "get")
        return True  # a function view: ask it (a POST-only one answers 405)

    @property
    def view_model(self):
        cls = self.view_class
        return getattr(cls, "model", None) or getattr(getattr(cls, "queryset", None), "model", None)

    def url(self, values):
        path = _PARAM.sub(lambda m: quote(str(values[m[2] or m[3]]), safe=""), self.text)
        return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def walk(resolver=None, prefix=""):
    """Every pattern of the URL conf that answers GET, as :class:`Route` (format suffixes left out)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        text = prefix + str(pattern.pattern)
        if text.startswith(SKIPPED) or "(?P<format>" in text or "<drf_format_suffix:" in text:
            continue
        if isinstance(pattern, URLResolver):
            yield from walk(pattern, text)
        elif isinstance(pattern, URLPattern):
            route = Route(text, pattern)
            if route.answers_get:
                yield route


# --- what a view reads --------------------------------------------------------------------------------
def _project_packages():
    return {c.name.split(".")[0] for c in apps.get_app_configs() if "site-packages" not in c.path} | {"baohe"}


def _ours(obj, project):
    return bool(getattr(obj, "__module__", None)) and obj.__module__.split(".")[0] in project


def _functions(obj, project):
    """The project functions behind ``obj``: itself (unwrapped, with the functions its decorator
    closes over), or a class's methods and properties along its project bases."""
    if isinstance(obj, type):
        found = []
        for klass in obj.__mro__:
            if _ours(klass, project):
                for value in vars(klass).values():
                    value = getattr(value, "fget", None) or getattr(value, "func", None) or value
                    found += _functions(value, project) if inspect.isfunction(inspect.unwrap(value)) else []
        return found
    function = inspect.unwrap(obj)
    if not inspect.isfunction(function) or not _ours(function, project):
        return []
    cells = [c.cell_contents for c in function.__closure__ or () if inspect.isfunction(c.cell_contents)]
    return [function, *(f for cell in cells for f in _functions(cell, project))]


def _codes(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _named(function):
    """The globals (and attributes of global modules) a function's code names."""
    code_names = {n for code in _codes(function.__code__) for n in code.co_names}
    for name in code_names:
        value = function.__globals__.get(name)
        if isinstance(value, types.ModuleType):
            yield from (getattr(value, n, None) for n in code_names)
        else:
            yield value


def declared_names(route, project):
    """The query names a view reads (see the module docstring), sorted."""
    own = _functions(route.view_class or route.callback, project)
    referenced = {v for f in own for v in _named(f) if isinstance(v, type) or inspect.isfunction(v)}
    if route.view_class is not None:
        referenced |= {v for k in route.view_class.__mro__ for v in vars(k).values() if isinstance(v, type)}
    names, source = set(), ""
    for value in referenced:
        if isinstance(value, type) and issubclass(value, django_filters.FilterSet):
            names.update(value.base_filters)
        elif isinstance(value, type) and issubclass(value, forms.BaseForm):
            if any(k.__name__ == "QueryForm" for k in value.__mro__):
                names.update(value.base_fields)
        elif isinstance(value, type) and issubclass(value, serializers.Serializer):
            if value.__name__.endswith(("Params", "Query")):
                names.update(value().fields)
    for function in own + [f for v in referenced if _ours(v, project) for f in _functions(v, project)]:
        try:
            source += inspect.getsource(function)
        except (OSError, TypeError):
            continue
    names.update(a or b for a, b in _READS.findall(source))
    names.update(n for n in COMMON_NAMES if f'"{n}"' in source or f"'{n}'" in source)
    if "list" in (getattr(route.callback, "actions", None) or {}).values():
        names.update(("page", "page_size", "cursor", "ordering", "search", "format"))
    return sorted(names)


def query_strategy(route, names, kind):
    """Query strings with values of one ``kind`` (see the module docstring); on a page the names take
    the kind's values in turn, in an order Hypothesis draws."""
    value = st.sampled_from(HOSTILE[kind])
    names = names or COMMON_NAMES
    if route.is_api:
        mine = st.dictionaries(st.sampled_from(names), value, min_size=1, max_size=2)
    else:
        mine = st.permutations(HOSTILE[kind]).map(lambda vs: {n: vs[i % len(vs)] for i, n in enumerate(names)})
    other = st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), value, max_size=1)
    return st.builds(lambda mine, other: {**other, **mine}, mine, other)


# --- the requests -------------------------------------------------------------------------------------
class Sweep:
    """Asks every route as every role; ``failures`` maps (pattern, error) to the requests that met it."""

    def __init__(self, users, ids, roles=ROLES):
        self.ids = ids
        self.users = users
        self.clients = {}
        for role in roles:
            self.clients[role] = verified_login(Client(raise_request_exception=False), users[role])
        self.failures = defaultdict(list)
        self.requests = 0
        self.project = _project_packages()
        self.first_ids = {}
        self.slugs = {}

    def ask(self, route, role, url, query=None):
        self.requests += 1
        shown = url + ("?" + urlencode(query) if query else "")
        try:
            response = self.clients[role].get(url, query or {})
        except Exception as error:  # the client itself failed: a finding too
            self.failures[(route.text, f"{type(error).__name__}: {error}"[:160])].append((role, "-", shown))
            return None
        error = None
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            error = (
                f"{exc[0].__name__}: {(str(exc[1]).strip().splitlines() or [''])[0][:140]}" if exc else "(no exception)"
            )
        elif response.status_code == 200 and not response.streaming:
            error = malformed(response)
        if error:
            self.failures[(route.text, error)].append((role, response.status_code, shown))
        return response.status_code

    def options(self, route):
        """The values each non-id path parameter may take."""
        found = {}
        for match in _PARAM.finditer(route.text):
            name = match[2] or match[3]
            converter = route.converters.get(name)
            if name in SLUGS:
                if name not in self.slugs:
                    self.slugs[name] = SLUGS[name]() or ["x"]
                found[name] = self.slugs[name]
            elif converter is not None and type(converter).__module__ != "django.urls.converters":
                found[name] = converter.regex.split("|")  # a custom converter: "street|community|compound"
        return found

    def first_id(self, model, user):
        key = (model, user.pk if user else None)
        if key not in self.first_ids:
            self.first_ids[key] = self.ids.first_id(model, user)
        return self.first_ids[key]

    def path_values(self, route, role, which="real", chosen=None):
        """Path parameters: ``chosen`` (or the first option) where not an id; an id is ``which`` of
        real (the first row the role sees), first (of all), one, missing, huge, odd."""
        options = self.options(route)
        values = {}
        for match in _PARAM.finditer(route.text):
            name, regex = match[2] or match[3], match[4]
            if name in options:
                values[name] = (chosen or {}).get(name, options[name][0])
                continue
            before = _PARAM.sub(lambda m: str(values[m[2] or m[3]]), route.text[: match.start()])
            segment = before.replace("^", "").rstrip("/").rsplit("/", 1)[-1]
            model = self.ids.model_for(name, view_model=route.view_model, segment=segment, app_label=route.app_label)
            first = self.first_id(model, None) if model else None
            values[name] = {
                "real": (self.first_id(model, self.users[role]) if model else None) or first or 1,
                "first": first or 1,
                "one": 1,
                "missing": MISSING_ID,
                "huge": HUGE_ID,
                "odd": "1" if match[1] == "int" or regex in ("[0-9]+", r"\d+") else "²",
            }[which]
        return values

    def run(self, route, role):
        real_url = route.url(self.path_values(route, role))
        status = self.ask(route, role, real_url)
        if len(list(_PARAM.finditer(route.text))) > len(self.options(route)):
            for which in ("first", "one", "missing", "huge", "odd"):
                url = route.url(self.path_values(route, role, which))
                if url != real_url:
                    self.ask(route, role, url)
        if status is None or not 200 <= status < 300:
            return
        names = declared_names(route, self.project)
        paths = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in self.options(route).items()})
        for kind in HOSTILE:

            @seed(zlib.crc32(f"{route.text}|{role}|{kind}".encode()))
            @settings(
                max_examples=API_EXAMPLES if route.is_api else PAGE_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(query=query_strategy(route, names, kind), path=paths)
            def hostile(query, path):
                self.ask(route, role, route.url(self.path_values(route, role, chosen=path)), query)

            hostile()

    def report(self):
        lines = []
        for (route, error), hits in sorted(self.failures.items()):
            role, status, url = hits[0]
            roles = ", ".join(sorted({r for r, _s, _u in hits}))
            lines.append(f"{route}: {error} [{status}; {len(hits)}× as {roles}]\n    GET {url}")
        return lines


def malformed(response):
    """Why a 200 in JSON or XML does not parse, or None."""
    kind = response.get("Content-Type", "").split(";")[0].strip()
    try:
        if kind.endswith("json"):
            json.loads(response.content)
        elif kind.endswith("xml"):
            ElementTree.fromstring(response.content)  # noqa: S314 - our own answer, under test
    except (ValueError, ElementTree.ParseError) as error:
        return f"malformed {kind}: {error}"[:160]
    return None


# One test per role and half of the URL conf (pages, API), so that xdist spreads them over its workers.
@pytest.mark.parametrize("part", ["pages", "api"])
@pytest.mark.parametrize("role", ROLES)
def test_hostile_query_strings_never_get_a_server_error(role, part, fuzz_users, demo_ids):
    sweep = Sweep(fuzz_users, demo_ids, roles=[role])
    started = time.monotonic()
    routes = [route for route in walk() if route.is_api == (part == "api")]
    for route in routes:
        sweep.run(route, role)
    print(f"{len(routes)} {part} patterns as {role}: {sweep.requests} requests in {time.monotonic() - started:.0f}s")
    failures = sweep.report()
    if failures:
        pytest.fail(f"{len(failures)} distinct failures:\n" + "\n".join(failures), pytrace=False)
