"""Masking of personal data for display (ARCHITECTURE rule 5)."""

import re


def mask_mobile(value):
    """``13812345678`` → ``138****5678``; short or empty values are masked whole."""
    if not value:
        return ""
    value = str(value)
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_id_number(value):
    """``340104199001011234`` → ``3401**********1234``."""
    if not value:
        return ""
    value = str(value)
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_name(value):
    """A person's name shown to someone who may not know who it is: ``张三丰`` → ``张**`` (the
    family name stays; a single character is masked whole)."""
    if not value:
        return ""
    value = str(value)
    if len(value) == 1:
        return "*"
    return f"{value[0]}{'*' * (len(value) - 1)}"


def mask_username(value):
    """A typed username for logs and lists (it may be a mobile number, or a password typed in
    the wrong box): a mobile number as :func:`mask_mobile`, anything else keeps only its first
    and last character."""
    if not value:
        return ""
    value = str(value)
    if re.fullmatch(r"[0-9]{11}", value):
        return mask_mobile(value)
    if len(value) <= 2:
        return "*" * len(value)
    return f"{value[0]}{'*' * min(len(value) - 2, 6)}{value[-1]}"


_ID_RUN = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE_RUN = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def redact_numbers(text):
    """``text`` with every ID number and mobile number inside it masked (for lines written
    about a person: the audit trail's object names, log lines)."""
    if not text:
        return ""
    text = _ID_RUN.sub(lambda match: mask_id_number(match.group()), str(text))
    return _MOBILE_RUN.sub(lambda match: mask_mobile(match.group()), text)


# Public text (the compound board, Open311, what a neighbour is told): a unit, a room or a
# "unit-room" pair names a home, so it goes whole; so does any run of 7 or more digits (phone,
# landline, ID, bank card), separators and all.
_UNIT = re.compile(r"[0-9０-９一二三四五六七八九十]+\s*(?:单元|门洞)")
_ROOM = re.compile(r"[0-9０-９]+\s*(?:室|号房|户)|(?<![0-9])[0-9]{1,2}\s*[-－—]\s*[0-9]{3,4}(?![0-9])")
_LONG_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ \-－][0-9]+)*(?![0-9])")
_DATE = re.compile(r"[0-9]{4}[-－][0-9]{1,2}[-－][0-9]{1,2}(?![0-9])")
_DIGIT = re.compile(r"[0-9]")
HIDDEN = "**"


def _hide_long_run(match):
    run = match.group()
    if _DATE.match(run) or len(_DIGIT.findall(run)) < 7:
        return run  # a date (2026-12-07) or a short number stays
    return HIDDEN


def anonymise_text(text, names=()):
    """``text`` fit to be shown to anyone (ARCHITECTURE rule 5, the one rule for public text):
    every ID and mobile number (:func:`redact_numbers`' patterns), every other run of 7 or more
    digits, every unit and room (``2单元``, ``301室``, ``2-301``) and every one of ``names`` (the
    people a request names: its contact, its household) replaced by ``**``."""
    if not text:
        return ""
    text = _ID_RUN.sub(HIDDEN, str(text))
    text = _MOBILE_RUN.sub(HIDDEN, text)
    text = _LONG_RUN.sub(_hide_long_run, text)
    text = _UNIT.sub(HIDDEN + "单元", text)
    text = _ROOM.sub(HIDDEN, text)
    for name in sorted({str(n).strip() for n in names if n and len(str(n).strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, HIDDEN)
    return text
