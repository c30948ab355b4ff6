"""Reading input: the one module that turns query strings and cursors into values (rule 4).

No page, export or API parses ``request.GET`` / ``query_params`` by hand (no ``int(...)``, no
``.isdigit()``: ``"²".isdigit()`` is true and ``int("²")`` raises). Every parameter is declared
once, with a field from here, and read through one of three doors:

- **pages and exports**: a :class:`QueryForm` read with :func:`read_query`. A value that does not
  parse is dropped (the field's default applies) and the page says so in a warning message
  ("已忽略无效的筛选条件…"): the page still answers, never a 500.
- **API views**: a DRF serializer read with :func:`read_params`; a bad value is 400 with field
  errors. Its fields (:class:`ApiInteger`, :class:`ApiId`, :class:`ApiYear`) are the same rules.
- **API lists**: a django-filter :class:`FilterSet` built from the filters here
  (:class:`NumberFilter`, :class:`YearFilter`, :class:`IsoDateTimeFilter`); django-filter answers
  400 with field errors.

The rules, in one place:

- an integer is ASCII digits (a leading ``-`` only where the range allows it) within a declared
  range; an id is 1 … 2⁶³−1 (PostgreSQL ``bigint``); a year lies in ``YEAR_MIN`` … ``YEAR_MAX``;
- a date-time carries a UTC offset PostgreSQL accepts (at most ±15:59), is turned into UTC,
  and lies in ``DATETIME_MIN`` … ``DATETIME_MAX`` (a window no real record leaves);
- a cursor is signed (:func:`sign_cursor` / :func:`read_cursor`): one that was not made here,
  or was changed, is refused (400 on the API, the first page on a page).
"""

import re
from datetime import UTC, date, datetime, timedelta

import django_filters
from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import filters, serializers
from rest_framework.exceptions import ValidationError as ApiValidationError

BIGINT_MAX = 2**63 - 1
YEAR_MIN, YEAR_MAX = 2000, 2100
DATETIME_MIN = datetime(1900, 1, 1, tzinfo=UTC)
DATETIME_MAX = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)
DATE_MIN, DATE_MAX = DATETIME_MIN.date(), DATETIME_MAX.date()
MAX_OFFSET = timedelta(hours=15, minutes=59)  # PostgreSQL refuses a larger time zone displacement

_UNSIGNED = re.compile(r"[0-9]{1,19}\Z")
_SIGNED = re.compile(r"-?[0-9]{1,19}\Z")


# --- the rules ----------------------------------------------------------------------------------
def parse_int(raw, *, min_value=0, max_value=BIGINT_MAX):
    """An ``int`` from ASCII digits within ``[min_value, max_value]``, or ``None``."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        pattern = _SIGNED if min_value is not None and min_value < 0 else _UNSIGNED
        if not pattern.match(text):
            return None
        value = int(text)
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        return None
    return value


def check_datetime(value):
    """``value`` (aware) in UTC, or ``ValidationError`` for an offset or a date out of range."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValidationError(_("时区偏移超出范围（最多 ±15:59）。"), code="offset_out_of_range")
    try:
        value = value.astimezone(UTC)
    except OverflowError as error:
        raise ValidationError(_("日期超出范围。"), code="date_out_of_range") from error
    if not DATETIME_MIN <= value <= DATETIME_MAX:
        raise ValidationError(
            _("日期应在 %(min)s 到 %(max)s 之间。"),
            code="date_out_of_range",
            params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
        )
    return value


def check_date(value):
    if value is not None and not DATE_MIN <= value <= DATE_MAX:
        raise ValidationError(
            _("日期应在 %(min)s 到 %(max)s 之间。"),
            code="date_out_of_range",
            params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
        )
    return value


def validate_datetime(value):
    """A validator for form fields: refuses what :func:`check_datetime` refuses."""
    if isinstance(value, datetime):
        check_datetime(value)
    elif isinstance(value, date):
        check_date(value)


# --- form fields (pages, exports, and FilterSets) -----------------------------------------------------
class IntegerField(forms.IntegerField):
    """ASCII digits within ``[min_value, max_value]`` (default 0 … 2⁶³−1)."""

    default_error_messages = {"invalid": _("请输入整数。")}

    def __init__(self, *, min_value=0, max_value=BIGINT_MAX, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parsed = parse_int(value, min_value=None, max_value=None)
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class DecimalField(forms.DecimalField):
    """A decimal number in ASCII (Django's own takes ``"９０"`` and other digits), finite."""

    default_error_messages = {"invalid": _("请输入数字。")}

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not re.fullmatch(r"\s*-?[0-9]+(\.[0-9]+)?\s*", value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class MonthField(forms.DateField):
    """A month as ``YYYY-MM`` (or a date ``YYYY-MM-DD`` in it), ASCII; the first day of that month."""

    default_error_messages = {"invalid": _("请按 2026-09 的格式填写月份。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
        super().__init__(input_formats=["%Y-%m", "%Y-%m-%d"], **kwargs)

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not re.fullmatch(r"\s*[0-9]{4}-[0-9]{2}(-[0-9]{2})?\s*", value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        parsed = super().to_python(value)
        return parsed.replace(day=1) if parsed else parsed


class IdField(IntegerField):
    """A row id: 1 … 2⁶³−1."""

    default_error_messages = {"invalid": _("请输入有效的编号（正整数）。")}

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=BIGINT_MAX, **kwargs)


class YearField(IntegerField):
    """A year between ``YEAR_MIN`` and ``YEAR_MAX``."""

    default_error_messages = {"invalid": _("年度必须是 2000 到 2100 之间的整数。")}

    def __init__(self, **kwargs):
        super().__init__(min_value=YEAR_MIN, max_value=YEAR_MAX, **kwargs)


class _CheckedTemporal:
    """Optional; text longer than any date is refused before parsing; the value passes ``check``."""

    check = staticmethod(lambda value: value)

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str) and len(value) > 64:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            value = super().to_python(value)
        except (OverflowError, ValueError) as error:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error
        return type(self).check(value)


class DateTimeField(_CheckedTemporal, forms.DateTimeField):
    """An ISO 8601 date-time (with or without offset), checked and turned into UTC."""

    check = staticmethod(check_datetime)


class DateField(_CheckedTemporal, forms.DateField):
    """An ISO 8601 date within ``DATE_MIN`` … ``DATE_MAX``."""

    check = staticmethod(check_date)


class ChoiceField(forms.ChoiceField):
    # Django's message repeats the raw value, control characters and all, into the page's notice.
    default_error_messages = {"invalid_choice": _("不是可选的值。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class FlagField(forms.NullBooleanField):
    """A yes/no parameter: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``; absent is
    ``None``; anything else is invalid (a notice on a page, 400 on the API)."""

    widget = forms.TextInput  # NullBooleanSelect would turn "1" and junk alike into None
    default_error_messages = {"invalid": _("请填写 1（是）或 0（否）。")}
    TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text == "":
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value):
        pass


class TextField(forms.CharField):
    """A search box: trimmed, bounded, no control characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)


# --- pages and exports ------------------------------------------------------------------------------
class QueryForm(forms.Form):
    """The GET parameters a page reads. Every field is optional; a value that does not parse is
    dropped (the field's ``initial`` applies) and named in :attr:`notices`."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)

    @property
    def values(self):
        """Every field's value: the parsed one, or the field's ``initial`` when absent or bad."""
        self.is_valid()
        values = {}
        for name, field in self.fields.items():
            initial = self.get_initial_for_field(field, name)
            value = None if name in self.errors else self.cleaned_data.get(name)
            values[name] = value if value not in (None, "", []) or initial is None else initial
        return values

    @property
    def notices(self):
        """One message per ignored parameter: which one, and why."""
        self.is_valid()
        notices = []
        for name, errors in self.errors.items():
            label = self.fields[name].label or name if name in self.fields else name
            notices.append(
                gettext("已忽略无效的筛选条件“%(field)s”：%(error)s") % {"field": label, "error": " ".join(errors)}
            )
        return notices


def read_query(request, form_class, *, notify=True, **kwargs):
    """Read a page's GET parameters with ``form_class``; returns the form's :attr:`~QueryForm.values`.

    Ignored parameters are told to the user once, as warning messages on this page.
    """
    form = form_class(request.GET, **kwargs)
    values = form.values
    if notify:
        for notice in form.notices:
            messages.warning(request, notice)
    return values


# --- API views ----------------------------------------------------------------------------------------
class ApiInteger(serializers.IntegerField):
    """ASCII digits within the declared range (DRF's own field takes ``"١٢"`` and ``"1.0"``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = parse_int(data, min_value=None, max_value=None)
        if value is None:
            self.fail("invalid")
        return value


class ApiId(ApiInteger):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)


class ApiYear(ApiInteger):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", YEAR_MIN)
        kwargs.setdefault("max_value", YEAR_MAX)
        super().__init__(**kwargs)


def read_params(request, serializer_class, **kwargs):
    """An API view's query parameters through ``serializer_class``: its validated data, or 400."""
    serializer = serializer_class(data=request.query_params, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def query_errors(serializer_class):
    """The documented 400 of an endpoint whose query parameters ``serializer_class`` reads with
    :func:`read_params`: DRF field errors, a list of messages per bad parameter."""
    name = serializer_class.__name__.removesuffix("Serializer")
    fields = {
        key: serializers.ListField(child=serializers.CharField(), required=False) for key in serializer_class().fields
    }
    return OpenApiResponse(inline_serializer(f"{name}Errors", fields), description="查询参数无效（400）")


def form_params(request, form_class, **kwargs):
    """An API view's query parameters through a :class:`QueryForm`: its values, or 400."""
    form = form_class(request.query_params, **kwargs)
    if not form.is_valid():
        raise ApiValidationError({name: list(errors) for name, errors in form.errors.items()})
    return form.values


# --- django-filter --------------------------------------------------------------------------------------
# Each filter tells the OpenAPI schema its type and range (drf-spectacular reads the annotation),
# so clients and schemathesis send what the filter takes.
@extend_schema_field({"type": "integer", "minimum": 0, "maximum": BIGINT_MAX})
class NumberFilter(django_filters.Filter):
    """An integer (an id, a count): ASCII digits, within range; a bad value is 400."""

    field_class = IntegerField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(NumberFilter):
    field_class = IdField


@extend_schema_field({"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX})
class YearFilter(NumberFilter):
    field_class = YearField


@extend_schema_field({"type": "string", "maxLength": 100})
class TextFilter(django_filters.Filter):
    """Free text (a search box): trimmed, at most 100 characters, no control characters (400)."""

    field_class = TextField


@extend_schema_field(OpenApiTypes.BOOL)
class FlagFilter(django_filters.Filter):
    """Yes/no: ``true``/``false`` (or ``1``/``0``); anything else is 400, not silently ignored."""

    field_class = FlagField


@extend_schema_field(OpenApiTypes.DATETIME)
class IsoDateTimeFilter(django_filters.Filter):
    field_class = DateTimeField


@extend_schema_field(OpenApiTypes.DATE)
class DateFilter(django_filters.Filter):
    field_class = DateField


class SearchFilter(filters.SearchFilter):
    """DRF's ``?search=`` with its errors keyed by the parameter (``{"search": [...]}``, not a bare
    list) and bounded to 100 characters."""

    def get_search_terms(self, request):
        value = request.query_params.get(self.search_param, "")
        field = serializers.CharField(trim_whitespace=False, allow_blank=True, max_length=100)
        try:
            cleaned = field.run_validation(value)
        except ApiValidationError as error:
            raise ApiValidationError({self.search_param: error.detail}) from None
        return filters.search_smart_split(cleaned)


class FilterSet(django_filters.FilterSet):
    """The project's FilterSet: fields generated from models use the filters above."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.AutoField: {"filter_class": NumberFilter},
        models.BigAutoField: {"filter_class": NumberFilter},
        models.IntegerField: {"filter_class": NumberFilter},
        models.BigIntegerField: {"filter_class": NumberFilter},
        models.SmallIntegerField: {"filter_class": NumberFilter},
        models.PositiveIntegerField: {"filter_class": NumberFilter},
        models.PositiveSmallIntegerField: {"filter_class": NumberFilter},
        models.PositiveBigIntegerField: {"filter_class": NumberFilter},
        models.DateTimeField: {"filter_class": IsoDateTimeFilter},
        models.DateField: {"filter_class": DateFilter},
        models.ForeignKey: {"filter_class": IdFilter},
        models.BooleanField: {"filter_class": FlagFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }


# --- cursors ------------------------------------------------------------------------------------------
class InvalidCursor(ValueError):
    """A cursor that was not made here, was changed, or has expired."""


_CURSOR_SALT = "baohe.query.cursor"


def sign_cursor(values, *, salt=""):
    """An opaque, URL-safe token for a list of JSON-able values (a page position)."""
    return signing.dumps(list(values), salt=_CURSOR_SALT + salt, compress=True)


def read_cursor(token, *, salt="", length=None):
    """The values :func:`sign_cursor` signed, or :class:`InvalidCursor`."""
    if not isinstance(token, str) or len(token) > 512:
        raise InvalidCursor(token)
    try:
        values = signing.loads(token, salt=_CURSOR_SALT + salt)
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor(token) from error
    if not isinstance(values, list) or (length is not None and len(values) != length):
        raise InvalidCursor(token)
    return values


# --- sorting labels ------------------------------------------------------------------------------------
def number_sort_key(text):
    """Sort building and room labels naturally: ``"2"`` before ``"10"``, labels with letters last."""
    value = parse_int(text)
    return (value, text) if value is not None else (BIGINT_MAX, text)
