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
