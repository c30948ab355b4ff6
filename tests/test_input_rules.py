"""Rule 4 holds by construction: one module reads query input, one rule guards free text.

These tests read the project itself, so a new view that parses ``request.GET`` by hand, a
FilterSet built on django-filter's lenient number filter, or a text field without the control
character rule fails here before any fuzzer finds the 500.
"""

import re
from pathlib import Path

import django_filters
import pytest
from django import forms
from django.apps import apps
from rest_framework import serializers

from baohe import query
from baohe.validators import validate_text

ROOT = Path(__file__).resolve().parent.parent
PROJECT_APPS = [
    config
    for config in apps.get_app_configs()
    if Path(config.path).resolve().is_relative_to(ROOT) and ".venv" not in Path(config.path).parts
]
PARSING_MODULE = ROOT / "baohe" / "query.py"

# Hand parsing that rule 4 forbids outside baohe/query.py.
FORBIDDEN = {
    "int(request.": re.compile(r"\bint\(\s*(self\.)?request\."),
    ".isdigit()": re.compile(r"\.isdigit\(\)"),
    "a hand-split cursor": re.compile(r"b64decode|urlsafe_b64decode"),
    "request.GET[...]": re.compile(r"request\.(GET|query_params)\["),
}
# Where a pattern is not query parsing: the key ring and the stored ciphertexts are base64 by
# design (baohe/crypto.py reads the environment and the database, never a request).
ALLOWED = {"a hand-split cursor": {ROOT / "baohe" / "crypto.py"}}


def _project_sources():
    for config in PROJECT_APPS:
        for path in Path(config.path).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_the_apps_are_found():
    assert {"baohe", "service_requests", "communities", "dashboard"} <= {c.label for c in PROJECT_APPS}


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_no_hand_parsing_outside_the_parsing_module(what):
    found = []
    for path in _project_sources():
        if path == PARSING_MODULE or path in ALLOWED.get(what, ()):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if FORBIDDEN[what].search(code):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def _subclasses(base):
    seen, stack = [], [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return [
        cls
        for cls in seen
        if any(cls.__module__ == c.name or cls.__module__.startswith(c.name + ".") for c in PROJECT_APPS)
    ]


def _import_everything():
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - importing the URL conf imports every view, API, form and filter


LENIENT_FILTERS = (
    django_filters.NumberFilter,
    django_filters.DateTimeFilter,
    django_filters.IsoDateTimeFilter,
    django_filters.DateFilter,
    django_filters.ModelChoiceFilter,  # answers 400 for a missing id but 200 for another community's
    django_filters.BooleanFilter,  # ignores "maybe" silently
)


def test_every_filterset_reads_through_the_parsing_module():
    _import_everything()
    filtersets = _subclasses(django_filters.FilterSet)
    assert len(filtersets) > 20
    problems = []
    for filterset in filtersets:
        if filterset is query.FilterSet:
            continue
        if not issubclass(filterset, query.FilterSet):
            problems.append(f"{filterset.__module__}.{filterset.__name__} is not a baohe.query.FilterSet")
        for name, declared in filterset.base_filters.items():
            if isinstance(declared, LENIENT_FILTERS) and not isinstance(
                declared, query.NumberFilter | query.IsoDateTimeFilter | query.DateFilter | query.FlagFilter
            ):
                problems.append(f"{filterset.__name__}.{name} is a {type(declared).__name__}")
    assert problems == []


def test_every_text_field_of_every_form_refuses_control_characters():
    _import_everything()
    forms_found = _subclasses(forms.BaseForm)
    assert len(forms_found) > 30
    missing = [
        f"{form.__module__}.{form.__name__}.{name}"
        for form in forms_found
        for name, field in getattr(form, "base_fields", {}).items()
        if isinstance(field, forms.CharField) and validate_text not in field.validators
    ]
    assert missing == []


def test_every_text_field_of_every_serializer_refuses_control_characters():
    _import_everything()
    found = [s for s in _subclasses(serializers.Serializer) if getattr(s, "Meta", None) or s._declared_fields]
    assert len(found) > 30
    missing = [
        f"{serializer.__module__}.{serializer.__name__}.{name}"
        for serializer in found
        # .fields builds what a ModelSerializer generates from its model, as a request would
        for name, field in serializer().fields.items()
        if isinstance(field, serializers.CharField) and validate_text not in field.validators
    ]
    assert missing == []


@pytest.mark.parametrize("text", ["a\x00b", "\x01", "bell\x07", "esc\x1b[31m", "\x7f", "\ud800", "\uffff"])
def test_the_text_rule_refuses_control_characters(text):
    form_field = forms.CharField()
    api_field = serializers.CharField()

    with pytest.raises(forms.ValidationError):
        form_field.clean(text)
    with pytest.raises(serializers.ValidationError):
        api_field.run_validation(text)


@pytest.mark.parametrize("text", ["第一行\r\n第二行", "tab\there", "和谐5栋 3单元", "emoji 🙂"])
def test_the_text_rule_keeps_ordinary_text(text):
    assert forms.CharField().clean(text) == text
    assert serializers.CharField(trim_whitespace=False).run_validation(text) == text
