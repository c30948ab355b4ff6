"""Every API operation answers without a 5xx and as its published schema says (issue 10, rule 4).

schemathesis (pinned in requirements-dev.txt) loads ``/api/schema/`` (as staff: the schema is
for signed-in staff only) from a live server on the seeded demo and runs every operation in it, GETs and writes, as a resident, a district official
and staff, each signed in with an API token from ``POST /api/v1/auth/token/`` (a token needs no
CSRF token for writes; staff and the official also send a code from their demo authenticator).
Hypothesis draws :data:`EXAMPLES` requests per operation and role with a fixed seed; the first
and about half of the rest use real ids in the path (the first row of the model the role may
see, ``DemoIds``), the others whatever the schema allows. Each role's reads and its writes are
two tests, each from a freshly restored demo; the writes' DELETEs come last (then signing out,
which revokes its token), so the other operations see it whole.

Checks: ``not_a_server_error``, ``response_schema_conformance`` and
``content_type_conformance``. (``status_code_conformance`` is left out: the schema documents only
each operation's success answer, not its 400/403/404.) Failures are collected, not stopped at,
and reported together: operation, role, status, check, a short body and the server's exception.
"""

import sys
import time
import zlib
from collections import defaultdict

import pytest
import requests
import schemathesis
from django.core.signals import got_request_exception
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from accounts.seed.demo import PASSWORD
from tests.fuzz.conftest import ROLES
from tests.signin import demo_device, totp_code

EXAMPLES = 3  # per operation and role: about 1,750 calls in all (5 took 2,900 calls and a third of the CI run)
SIGN_OUT = ("/api/v1/auth/logout/", "/api/v1/auth/logout-all/")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def token_headers(server, user):
    """``Authorization`` for ``user``: an API token from ``POST /api/v1/auth/token/`` (staff and
    officials also send the code from their demo authenticator)."""
    credentials = {"username": user.username, "password": PASSWORD}
    if user.needs_second_factor:
        credentials["otp"] = totp_code(demo_device(user.username))
    answer = requests.post(f"{server.url}/api/v1/auth/token/", json=credentials, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Token {answer.json()['token']}"}


@pytest.fixture
def api_schema(live_server, fuzz_users):
    """The published schema, read as staff (only signed-in staff may read it: ApiDocsAccess)."""
    schema = schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/", headers=token_headers(live_server, fuzz_users["staff"])
    )
    schema.config.generation.update(with_security_parameters=False)  # our token, not generated ones
    return schema


@pytest.fixture
def server_errors():
    """The exceptions the server raised, in order (the live server runs in this process)."""
    seen = []

    def record(sender, request=None, **kwargs):
        error = sys.exc_info()[1]
        if error is not None:
            seen.append(f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0][:120]}")

    got_request_exception.connect(record, dispatch_uid="fuzz-api-schema")
    yield seen
    got_request_exception.disconnect(dispatch_uid="fuzz-api-schema")


def real_path_parameters(operation, user, demo_ids):
    """``{name: id}`` for the operation's path parameters: the first row of its model ``user`` may see."""
    names = [p.name for p in operation.path_parameters]
    if not names:
        return {}
    path = operation.path
    for name in names:
        path = path.replace(f"{{{name}}}", "1")
    try:
        match = resolve(path)
    except Resolver404:
        return {}
    view = getattr(match.func, "view_class", None) or getattr(match.func, "cls", None)
    view_model = getattr(getattr(view, "queryset", None), "model", None)
    found = {}
    for name in names:
        segment = operation.path.split(f"{{{name}}}")[0].rstrip("/").rsplit("/", 1)[-1]
        model = demo_ids.model_for(
            name, view_model=view_model, segment=segment, app_label=match.func.__module__.split(".")[0]
        )
        first = demo_ids.first_id(model, user) if model else None
        if first is None:
            return {}
        found[name] = first
    return found


class Run:
    """One role's pass over every operation; ``failures`` maps (operation, check, field or exception) to hits."""

    def __init__(self, server, role, user, demo_ids, server_errors):
        self.server, self.role, self.user, self.demo_ids = server, role, user, demo_ids
        self.server_errors = server_errors
        self.headers = token_headers(server, user)
        self.session = requests.Session()
        self.failures = defaultdict(list)
        self.calls = 0

    def check(self, operation, case):
        self.calls += 1
        errors_before = len(self.server_errors)
        try:
            response = case.call(base_url=self.server.url, session=self.session, headers=self.headers, timeout=60)
        except requests.RequestException as error:
            self.failures[(operation.label, type(error).__name__, "")].append(("-", str(error)[:160], "", "", ""))
            return
        try:
            case.validate_response(response, checks=CHECKS, headers=self.headers)
        except FailureGroup as group:
            sent = f"{response.request.method} {response.request.url}"
            body = response.request.body
            if body:
                sent += f" {(body.decode(errors='replace') if isinstance(body, bytes) else body)[:300]}"
            raised = "; ".join(self.server_errors[errors_before:])[:300]
            for failure in group.exceptions:
                message = (failure.message.strip().splitlines() or [""])[0][:160]
                # One entry per field a schema violation is at, or per exception the server raised.
                at = getattr(failure, "instance_path", None)
                at = "/".join("*" if isinstance(p, int) else str(p) for p in at) if at is not None else ""
                key = (operation.label, failure.title, at or raised.split(":")[0])
                hit = (response.status_code, message, sent, raised, response.text[:200].replace("\n", " "))
                self.failures[key].append(hit)

    def run(self, operation):
        real = real_path_parameters(operation, self.user, self.demo_ids)
        strategy = operation.as_strategy()
        if real:
            strategy = st.one_of(operation.as_strategy(path_parameters=real), strategy)

        @seed(zlib.crc32(f"{operation.label}|{self.role}".encode()))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def examples(case):
            self.check(operation, case)

        examples()

    def report(self):
        lines = []
        for (label, title, at), hits in sorted(self.failures.items()):
            status, message, sent, raised, answer = hits[0]
            where = f" at {at}" if at and not raised else ""
            entry = f"{label} as {self.role}: {title}{where}: {message} [{status}; {len(hits)}×]\n    {sent}"
            entry += f"\n    server: {raised}" if raised else ""
            entry += f"\n    answer: {answer}" if answer else ""
            lines.append(entry)
        return lines


# One test per role and kind of operation (reads: GET; writes: the rest), so that xdist spreads
# them over its workers; each starts from a freshly restored demo.
@pytest.mark.parametrize("kind", ["reads", "writes"])
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_its_schema_says(
    role, kind, fuzz_users, demo_ids, live_server, api_schema, server_errors
):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    operations = [o for o in operations if (o.method.upper() in ("GET", "HEAD")) == (kind == "reads")]
    # Stable: DELETEs last, and signing out (which revokes the run's own token) after everything.
    operations.sort(key=lambda operation: (operation.path in SIGN_OUT, operation.method.upper() == "DELETE"))
    run = Run(live_server, role, fuzz_users[role], demo_ids, server_errors)
    started = time.monotonic()
    for operation in operations:
        run.run(operation)
    print(f"{role} {kind}: {len(operations)} operations, {run.calls} calls in {time.monotonic() - started:.0f}s")
    failures = run.report()
    if failures:
        pytest.fail(f"{len(failures)} distinct failures as {role}:\n" + "\n".join(failures), pytrace=False)
