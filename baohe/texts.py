"""Texts kept in the database and translated when they are read (stored messages).

A message the portal writes for later reading (a notification's title, a timeline entry) is
stored as its *source text* — the Chinese msgid of a ``gettext_lazy`` / ``ngettext_lazy`` string
— and its parameters, and rendered at display time in the reader's language, the way Django's
documentation recommends for strings kept in the source language (``gettext_noop``). The
stored form is a small JSON object::

    {"msgid": "您的诉求 %(number)s 已被社区签收。", "params": {"number": "BH20261207001"}}
    {"msgid": "%(count)d 件…", "plural": "%(count)d 件…", "params": {"count": 3, …}}

Parameters are plain values (the request number, a count: data, never translated), a moment
(``{"at": "<ISO 8601>"}``, shown in the local time zone in the reader's date format), a
label (``{"msgid": "电话"}``, translated too) or a name of reference data in both languages
(``{"zh": "漏水", "en": "Leaks"}``: :func:`bilingual`, e.g. a category's ``name_en``). :func:`stored` builds the object from the lazy
string the code already has, :func:`render` turns it back into text.

A row written before this existed has no stored text: callers keep the plain text beside it
(``Notification.title``, ``RequestEvent.message``) and show that instead, so nothing old is lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, ngettext, pgettext

StoredText = dict[str, Any]


def _source(text: Any) -> dict[str, str]:
    """The msgid (and plural) behind a lazy translation, or the text itself if it is not lazy."""
    if isinstance(text, Promise):
        kw = getattr(text, "_kw", None) or {}
        if "singular" in kw:  # ngettext_lazy(singular, plural, "count")
            return {"msgid": kw["singular"], "plural": kw["plural"]}
        args: tuple[Any, ...] = tuple(getattr(text, "_args", None) or ())
        if len(args) == 1 and isinstance(args[0], str):  # gettext_lazy(msgid)
            return {"msgid": args[0]}
        if len(args) == 2 and all(isinstance(a, str) for a in args):  # pgettext_lazy(context, msgid)
            return {"msgid": args[1], "context": args[0]}
    return {"msgid": str(text)}


def bilingual(zh: str, en: str = "") -> dict[str, str]:
    """A parameter with a Chinese and an English form (reference data): shown in the reader's language."""
    return {"zh": zh, "en": en or zh}


def in_english() -> bool:
    return (get_language() or "").startswith("en")


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"at": value.isoformat()}
    if isinstance(value, Promise):
        return _source(value)
    return value


def stored(text: Any, **params: Any) -> StoredText:
    """The JSON-able form of ``text % params``, to render later with :func:`render`."""
    return {**_source(text), "params": {name: _param(value) for name, value in params.items()}}


def local_datetime(value: datetime) -> str:
    """A moment in the local time zone, in the active language's format (2026-12-07 09:30 / Dec 7, 2026 09:30)."""
    return date_format(timezone.localtime(value), pgettext("datetime format", "Y-m-d H:i"))


def _translate(text: dict[str, Any]) -> str:
    if text.get("context"):
        return pgettext(str(text["context"]), str(text["msgid"]))
    return gettext(str(text["msgid"]))


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        if "at" in value:
            moment = parse_datetime(str(value["at"]))
            return local_datetime(moment) if moment is not None else ""
        if "msgid" in value:
            return _translate(value)
        if "zh" in value:
            return value.get("en") or value["zh"] if in_english() else value["zh"]
    return value


def lines_of(texts: list[StoredText]) -> StoredText:
    """Several stored texts shown one a line (e.g. the requests a reminder lists)."""
    return {"lines": texts}


def render(text: StoredText | None) -> str:
    """The stored text in the active language ("" for none)."""
    if text and "lines" in text:
        return "\n".join(render(line) for line in text["lines"])
    if not text or not text.get("msgid"):
        return ""
    params = {name: _value(value) for name, value in (text.get("params") or {}).items()}
    if "plural" in text:
        template = ngettext(text["msgid"], text["plural"], int(params.get("count", 0) or 0))
    else:
        template = _translate(text)
    if not params:
        return template
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return text["msgid"]  # a translation that lost a placeholder: the source text is still right


def chinese_and_stored(text: str | StoredText) -> tuple[str, StoredText]:
    """(the Chinese text, the stored text or ``{}``) of a text given plain or stored: a stored
    text is rendered in the site's language (Chinese) for the plain column beside it."""
    if isinstance(text, dict):
        with translation.override(settings.LANGUAGE_CODE):
            return render(text), text
    return str(text), {}
