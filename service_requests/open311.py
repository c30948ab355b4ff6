"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under ``/open311/v2/``.

Endpoints, each as ``.json`` or ``.xml`` (any other suffix answers 404):

- ``discovery`` — where the API lives and which formats it speaks.
- ``services`` — every active leaf category (``service_code`` = ``Category.code``,
  ``group`` = the parent's name, ``metadata`` false, ``type`` realtime);
  ``services/{code}`` — its (empty) service definition, 404 for an unknown code.
- ``requests`` GET — public data of the district's requests: ``service_request_id`` (comma
  list; overrides the other filters), ``service_code`` (comma list), ``start_date`` /
  ``end_date`` (W3C datetimes; at most 90 days apart, the last 90 days by default),
  ``status=open|closed``; newest first, at most 1,000.
- ``requests`` POST (form-encoded, CSRF-exempt) — files a request through
  ``services.request_submit`` with channel ``open311``, by the account the ``api_key`` acts for
  (``manage.py open311_key create NAME [--user USERNAME]``; none is allowed). Answers 201 with
  ``[{service_request_id, token, service_notice, account_id}]``. Throttled per client IP
  (scope ``open311``, ``THROTTLE_RATE_OPEN311``): over the rate it answers 429 as the error
  list, with ``Retry-After``.
- ``requests/{id}`` — one request; ``tokens/{token}`` — the id behind a POST's token.

Choices made here:

- **Ids.** ``service_request_id`` is the request number residents and staff already quote
  (``BH-20261126-0042``), always a string.
- **Statuses.** Ours collapse to ``open`` (submitted, accepted, in progress, returned for
  re-routing) and ``closed`` (resolved, closed, rejected). "Resolved" counts as closed: in
  Open311 terms the work is done; if the resident is not satisfied the request is reopened
  (``in_progress``) and reads ``open`` again.
- **Public data only**, in the one public representation of a request (``public.py``, also
  the compound board's): no name, no building, unit or room (``address`` is the compound), and
  the description and ``status_notes`` (the latest reply the resident was sent: a public
  reply, the resolution note or the rejection reason; internal notes never appear) with phone-
  and ID-like digit runs, units, rooms and the request's names redacted
  (``baohe.masking.anonymise_text``); ``lat``/``long`` rounded to 0.001° (~100 m). Requests
  in the personal-information categories are not listed. ``media_url`` is the board address
  of the first photo staff marked public (``Attachment.public``); it is served to whoever may
  read the compound's board (everyone when ``PUBLIC_COMPOUND_BOARD`` is on).
- **Routing.** A request belongs to a compound (小区). It is taken from the extension
  attribute ``attribute[compound]`` (the compound's exact name) or else from the compound name
  contained in ``address_string`` (the longest match; a tie between two compounds of the same
  name is broken by the community name also appearing in the address). If that leaves no
  single compound the answer is 400 "无法确定小区".
- **Not taken.** ``media_url`` on POST (we do not fetch remote files) and ``email`` (no field
  to keep it in; residents are told by SMS through their accounts).
- Datetimes are ISO 8601 in Asia/Shanghai with their offset (``2026-11-26T09:30:00+08:00``).
- **Bad input.** The GET filters and the POST fields are read through forms
  (``open311_forms.py``): a value that does not parse, a date-time outside
  ``baohe.query.check_datetime``'s window, or text with NUL or control characters answers
  400 with the error list and writes nothing. Every XML answer drops what XML 1.0 forbids
  (``xml_safe``), so rows written before the text rule still give a list that parses. Errors
  no view answered (unknown path, method not allowed, server error) are the error list too
  (:func:`error_answer`, registered in ``apps.py``).
"""

import hashlib
import json
import secrets
from xml.etree import ElementTree as ET  # noqa: S405 — we build XML, never parse it here

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import CharField, F, Max, Value
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from baohe.errors import error_detail
from baohe.throttling import throttle_wait, throttled_message
from baohe.validators import xml_safe
from communities.models import Compound

from . import public, services
from .models import Category, Open311Key, ServiceRequest
from .open311_forms import COMPOUND_ATTRIBUTE, RequestPostForm, RequestSearchForm, comma_list

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MIME_TYPES = ["application/json", "text/xml"]
MAX_REQUESTS = 1000

Status = ServiceRequest.Status
OPEN = (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.RETURNED)
CLOSED = public.CLOSED_STATUSES

# The element that holds each item of a list, by the list's own element name.
ITEM_TAGS = {
    "service_requests": "request",
    "services": "service",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "attributes": "attribute",
}


# --- keys ------------------------------------------------------------------------------------
def hash_key(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def key_create(*, name, user=None):
    """A new client key: only its SHA-256 and first 8 characters are kept. Returns (key, raw)."""
    raw = secrets.token_urlsafe(32)
    key = Open311Key(name=name, key_hash=hash_key(raw), prefix=raw[:8], user=user)
    key.full_clean()
    key.save()
    return key, raw


def key_revoke(*, name):
    """Switch a client key off; returns how many keys were revoked (0 or 1)."""
    return Open311Key.objects.filter(name=name, is_active=True).update(is_active=False)


def key_lookup(raw):
    """The active key for ``raw`` (with an active user or none), else ``None``."""
    if not raw:
        return None
    key = Open311Key.objects.select_related("user").filter(key_hash=hash_key(raw), is_active=True).first()
    if key is None or (key.user_id and not key.user.is_active):
        return None
    return key


# --- rendering -------------------------------------------------------------------------------
def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(tag, value):
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, list | tuple):
        item_tag = ITEM_TAGS.get(tag, "item")
        for child in value:
            element.append(_element(item_tag, child))
    else:
        element.text = xml_safe(_text(value))  # rows written before the text rule may hold control characters
    return element


def render(fmt, data, root, status=200):
    """``data`` as JSON, or as XML under ``<root>`` (lists get one child element per item)."""
    if fmt == "xml":
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(_element(root, data), encoding="unicode")
    else:
        body = json.dumps(data, ensure_ascii=False)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt, status, *descriptions):
    """The spec's error list: ``[{"code": 400, "description": …}]`` / ``<errors><error>…``."""
    fmt = fmt if fmt in CONTENT_TYPES else "json"
    return render(fmt, [{"code": status, "description": str(d)} for d in descriptions], "errors", status=status)


def validation_errors(fmt, exc):
    if hasattr(exc, "error_dict"):
        messages = [f"{field}: {message}" for field, items in exc.message_dict.items() for message in items]
    else:
        messages = exc.messages
    return error(fmt, 400, *messages)


def form_errors(fmt, form):
    """A form's errors as the spec's 400 error list (``field: message``, or just the message)."""
    return error(
        fmt,
        400,
        *(f"{name}: {m}" if name != NON_FIELD_ERRORS else m for name, items in form.errors.items() for m in items),
    )


def error_answer(request, status):
    """Any error under ``/open311/`` that a view did not answer itself (an unknown path, a method
    not allowed, a CSRF refusal, a server error) as the spec's error list, in the format the
    path asks for (registered with ``baohe.errors`` in ``apps.py``)."""
    _code, message = error_detail(status)
    return error("xml" if request.path_info.endswith(".xml") else "json", status, message)


def is_error_list(response):
    return response.get("Content-Type", "").split(";")[0].strip() in ("application/json", "text/xml")


def open311_view(methods=("GET",)):
    """Check the format suffix (404 error list otherwise) and the HTTP method."""

    def decorate(view):
        def wrapper(request, fmt, **kwargs):
            if fmt not in CONTENT_TYPES:
                return error("json", 404, _("不支持的格式 %(fmt)s，请使用 .json 或 .xml。") % {"fmt": fmt})
            return view(request, fmt, **kwargs)

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return require_http_methods(list(methods))(wrapper)

    return decorate


def iso(moment):
    return timezone.localtime(moment, timezone.get_default_timezone()).isoformat(timespec="seconds") if moment else ""


# --- discovery and services ------------------------------------------------------------------
def service_categories():
    """Active categories a request can be filed under: leaves whose parent (if any) is active."""
    return (
        Category.objects.filter(is_active=True, children__isnull=True)
        .exclude(parent__is_active=False)
        .select_related("parent")
        .order_by("parent__order", "parent_id", "order", "id")
    )


@open311_view()
def discovery(request, fmt):
    """Where this endpoint lives and what it speaks."""
    changed = Category.objects.aggregate(last=Max("updated_at"))["last"]
    changeset = iso(changed) if changed else ""
    data = {
        "changeset": changeset,
        "contact": _("合肥市包河区 和美社区 诉求平台；使用问题请联系区级平台管理员。"),
        "key_service": _("提交诉求需要 api_key，请向区级平台管理员申请。"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "json"}))[
                    : -len("/discovery.json")
                ],
                "changeset": changeset,
                "type": "test" if settings.DEBUG else "production",
                "formats": MIME_TYPES,
            }
        ],
    }
    return render(fmt, data, "discovery")


def service_row(category):
    group = category.parent.name if category.parent_id else ""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(filter(None, [group, category.name])),
        "group": group,
    }


@open311_view()
def service_list(request, fmt):
    return render(fmt, [service_row(c) for c in service_categories()], "services")


@open311_view()
def service_definition(request, fmt, code):
    if not service_categories().filter(code=code).exists():
        return error(fmt, 404, _("没有服务代码为 %(code)s 的服务。") % {"code": code})
    return render(fmt, {"service_code": code, "attributes": []}, "service_definition")


# --- reading requests ------------------------------------------------------------------------
def request_queryset():
    """The requests anyone may read, with what their public representation needs (``public.py``)."""
    return public.public_queryset()


def open311_status(service_request):
    return "closed" if service_request.status in CLOSED else "open"


def request_row(request, service_request):
    """One request in the public representation (``public.public_row``): the compound as the
    address, anonymised text, the first photo staff marked public."""
    row = public.public_row(service_request)
    photo = row.photos[0] if row.photos else None
    return {
        "service_request_id": row.number,
        "status": open311_status(service_request),
        "status_notes": row.reply,
        "service_name": row.category,
        "service_code": service_request.category.code,
        "description": row.description,
        "agency_responsible": row.community,
        "service_notice": "",
        "requested_datetime": iso(row.created_at),
        "updated_datetime": iso(row.updated_at),
        "expected_datetime": iso(row.due_at),
        "address": row.compound,
        "address_id": "",
        "zipcode": "",
        "lat": float(row.latitude) if row.latitude is not None else None,
        "long": float(row.longitude) if row.longitude is not None else None,
        "media_url": request.build_absolute_uri(reverse("service_requests:board_photo", args=[photo])) if photo else "",
    }


def filter_requests(data):
    """The requests a valid :class:`RequestSearchForm` selects, newest first."""
    queryset = request_queryset().order_by("-created_at", "-id")
    ids = comma_list(data["service_request_id"])
    if ids:
        return queryset.filter(number__in=ids[:MAX_REQUESTS])
    codes = comma_list(data["service_code"])
    if codes:
        queryset = queryset.filter(category__code__in=codes)
    if data["status"] == {"open"}:
        queryset = queryset.filter(status__in=OPEN)
    elif data["status"] == {"closed"}:
        queryset = queryset.filter(status__in=CLOSED)
    if data["end_date"] is not None:
        queryset = queryset.filter(created_at__lt=data["end_date"])
    return queryset.filter(created_at__gte=data["start_date"])


def request_list(request, fmt):
    form = RequestSearchForm(request.GET)
    if not form.is_valid():
        return form_errors(fmt, form)
    rows = list(filter_requests(form.cleaned_data)[:MAX_REQUESTS])
    return render(fmt, [request_row(request, row) for row in rows], "service_requests")


@open311_view()
def request_detail(request, fmt, request_id):
    row = request_queryset().filter(number=request_id).first()
    if row is None:
        return error(fmt, 404, _("没有编号为 %(id)s 的诉求。") % {"id": request_id})
    return render(fmt, [request_row(request, row)], "service_requests")


@open311_view()
def token_detail(request, fmt, token):
    number = ServiceRequest.objects.filter(open311_token=token).values_list("number", flat=True).first()
    if number is None:
        return error(fmt, 404, _("没有这个令牌对应的诉求。"))
    return render(fmt, [{"service_request_id": number, "token": token}], "service_requests")


# --- filing requests -------------------------------------------------------------------------
def route_compound(*, attribute="", address=""):
    """The compound named by ``attribute[compound]``, or the one whose name ``address`` contains."""
    attribute = attribute.strip()
    if attribute:
        found = list(Compound.objects.filter(name=attribute)[:2])
        return found[0] if len(found) == 1 else None
    if not address.strip():
        return None
    candidates = list(
        Compound.objects.alias(given=Value(address, output_field=CharField()))
        .filter(given__contains=F("name"))
        .select_related("community")
    )
    if not candidates:
        return None

    def score(compound):
        return (len(compound.name), compound.community.name in address)

    best = max(score(c) for c in candidates)
    top = [c for c in candidates if score(c) == best]
    return top[0] if len(top) == 1 else None


def contact_name(first, last):
    """Chinese names read family name first (姓 = last_name); western ones first name first."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"
    return " ".join(filter(None, [first, last]))


def create_request(request, fmt):
    wait = throttle_wait(request, "open311")
    if wait:
        response = error(fmt, 429, throttled_message(wait))
        response["Retry-After"] = str(wait)
        return response
    form = RequestPostForm(request.POST)
    form.is_valid()
    key = key_lookup(form.cleaned_data.get("api_key", ""))
    if key is None:
        return error(fmt, 403, _("缺少 api_key 或 api_key 无效。"))
    if form.errors:
        return form_errors(fmt, form)
    data = form.cleaned_data
    category = service_categories().filter(code=data["service_code"]).first()
    if category is None:
        return error(fmt, 400, _("没有服务代码为 %(code)s 的服务。") % {"code": data["service_code"]})
    address = data["address_string"]
    compound = route_compound(attribute=data[COMPOUND_ATTRIBUTE], address=address)
    if compound is None:
        return error(
            fmt,
            400,
            _("无法确定诉求所属的小区：请在 attribute[compound] 填写小区名称，或在 address_string 中写明小区名称。"),
        )
    by = key.user
    token = secrets.token_urlsafe(24)
    try:
        with transaction.atomic():
            created = services.request_submit(
                by=by,
                category=category,
                description=data["description"],
                compound=compound,
                address=address,
                contact_name=contact_name(data["first_name"], data["last_name"]),
                contact_mobile=data["phone"],
                channel=ServiceRequest.Channel.OPEN311,
                latitude=data["lat"],
                longitude=data["long"],
                open311_token=token,
            )
    except ValidationError as exc:
        return validation_errors(fmt, exc)
    except Http404:
        # The key's account works elsewhere (the service's scope re-check refused the row).
        return error(fmt, 403, _("该 api_key 的账号无权为小区 %(name)s 提交诉求。") % {"name": compound.name})
    notice = _("社区将在 %(hours)s 小时内签收，%(days)s 个工作日内办结。") % {
        "hours": category.accept_within_hours,
        "days": category.resolve_within_days,
    }
    row = {"service_request_id": created.number, "token": token, "service_notice": notice, "account_id": ""}
    return render(fmt, [row], "service_requests", status=201)


# CSRF-exempt: Open311 clients are other systems posting form data with an ``api_key`` (checked in
# create_request before anything is written), not browsers carrying a session cookie.
@csrf_exempt
@open311_view(methods=("GET", "POST"))
def requests_endpoint(request, fmt):
    """GET: search the public requests; POST: file one (needs ``api_key``)."""
    if request.method == "POST":
        return create_request(request, fmt)
    return request_list(request, fmt)
