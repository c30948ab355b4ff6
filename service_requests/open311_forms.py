"""The Open311 GeoReport v2 input (``service_requests.open311``), as forms: the GET filters of
``requests`` and the fields of a ``requests`` POST.

Text fields pass the project's text rule (``baohe.validators.validate_text``: no NUL or control
characters); date-times lie in ``baohe.query.check_datetime``'s window with an offset
PostgreSQL accepts; coordinates are ASCII decimals within range. A form's errors answer the
spec's 400 error list.
"""

import re
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from baohe.query import check_date, check_datetime

MAX_SPAN = timedelta(days=90)
COMPOUND_ATTRIBUTE = "attribute[compound]"
COORDINATE = re.compile(r"[-+]?[0-9]{1,3}(\.[0-9]{1,15})?")


class MomentField(forms.Field):
    """A W3C datetime (naive ones are local time) or a date (its start, or its end with
    ``end=True``), within what ``baohe.query.check_datetime`` allows."""

    default_error_messages = {"invalid": _lazy("不是有效的日期时间（W3C 格式，如 2026-11-26T09:30:00+08:00）。")}

    def __init__(self, *, end=False, **kwargs):
        self.end = end
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        raw = value.strip()
        raw = raw.replace(" ", "+") if "T" in raw else raw  # "+08:00" arrives as " 08:00"
        try:
            moment = parse_datetime(raw) if len(raw) <= 64 else None
            if moment is None:
                day = parse_date(raw) if len(raw) <= 64 else None
                if day is None:
                    raise ValueError(raw)
                check_date(day)
                moment = datetime.combine(day + timedelta(days=1) if self.end else day, time.min)
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_default_timezone())
        return check_datetime(moment)


def comma_list(value):
    return [item.strip() for item in value.split(",") if item.strip()]


class RequestSearchForm(forms.Form):
    """The GET filters of ``requests``; ``service_request_id`` overrides the others (the spec)."""

    service_request_id = forms.CharField(required=False)
    service_code = forms.CharField(required=False)
    status = forms.CharField(required=False)
    start_date = MomentField()
    end_date = MomentField(end=True)

    def clean_status(self):
        statuses = {s.lower() for s in comma_list(self.cleaned_data["status"])}
        if statuses - {"open", "closed"}:
            raise ValidationError(_("status 只能是 open 或 closed。"))
        return statuses

    def clean(self):
        cleaned = super().clean()
        if self.errors or comma_list(cleaned["service_request_id"]):
            return cleaned
        start, end = cleaned["start_date"], cleaned["end_date"]
        if start is None:
            cleaned["start_date"] = start = (end or timezone.now()) - MAX_SPAN
        if end is not None and end < start:
            self.add_error("end_date", _("end_date 不能早于 start_date。"))
        elif end is not None and end - start > MAX_SPAN:
            self.add_error("end_date", _("start_date 与 end_date 相距不能超过 90 天。"))
        return cleaned


class CoordinateField(forms.Field):
    """A decimal coordinate within ±``limit``, rounded to six places (what the model keeps)."""

    def __init__(self, *, limit, **kwargs):
        self.limit = limit
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not COORDINATE.fullmatch(text):  # ASCII digits only: Decimal() takes "９０", "NaN", "1e9"
            raise ValidationError(_("不是有效的坐标。"), code="invalid")
        number = Decimal(text)
        if abs(number) > self.limit:
            raise ValidationError(_("坐标超出范围。"), code="out_of_range")
        return number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


class RequestPostForm(forms.Form):
    """The fields of a ``requests`` POST. Text passes the project's text rule (no NUL or control
    characters); which category ``service_code`` names, and which compound, the view decides."""

    api_key = forms.CharField(required=False, max_length=200)
    service_code = forms.CharField(error_messages={"required": _lazy("缺少 service_code。")})
    description = forms.CharField(required=False, max_length=2000)
    address_string = forms.CharField(required=False, max_length=200)
    lat = CoordinateField(limit=90)
    long = CoordinateField(limit=180)
    first_name = forms.CharField(required=False, max_length=25)
    last_name = forms.CharField(required=False, max_length=25)
    phone = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[COMPOUND_ATTRIBUTE] = forms.CharField(required=False, max_length=100)

    def clean(self):
        cleaned = super().clean()
        lat, long = (cleaned.get(name) is not None or name in self.errors for name in ("lat", "long"))
        if lat != long:
            self.add_error("lat", _("lat 和 long 需要同时提供。"))
        elif not lat and not cleaned.get("address_string") and "address_string" not in self.errors:
            self.add_error("address_string", _("请提供位置：lat/long 或 address_string。"))
        return cleaned
