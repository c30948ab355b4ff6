"""Hostile input shared by the per-app ``test_hostile_input.py`` files (rule 4).

Non-ASCII digits (``"²".isdigit()`` is true, ``int("²")`` raises), numbers past any range,
control characters, and date-times PostgreSQL refuses (an offset beyond ±15:59).
"""

HOSTILE = ["²", "¹²", "١٢", "-1", "0", "1e5", "9" * 30, "9e15", "\x00", "\x01"]
HOSTILE_YEARS = [*HOSTILE, "1999", "2101", "10000", str(2**63)]
HOSTILE_CHOICES = ["nope", "²", "\x00", "\x01"]
BAD_DATETIMES = ["1217-10-28T13:12:37+16:11", "2025-01-01T10:00:00-16:00", "1217-10-28T13:12:37Z", "2025-13-01T00:00"]


def notice(label):
    """The start of the message a page shows when it ignored the parameter labelled ``label``."""
    return f"已忽略无效的筛选条件“{label}”"


def noticed(response, label):
    return notice(label) in response.content.decode()


def not_refused(client, url, name, values):
    """The values of ``name`` that the API did not answer with 400 naming ``name`` (→ status)."""
    wrong = {}
    for value in values:
        response = client.get(url, {name: value})
        if response.status_code != 400 or list(response.json()) != [name]:
            wrong[value] = response.status_code
    return wrong
