"""Masking of personal data for display (ARCHITECTURE rule 5)."""


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
