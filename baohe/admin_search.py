"""Admin search on encrypted numbers: an exact mobile or ID number finds its row through the
blind index (``baohe.crypto``); substring search on them is impossible by design."""

from .crypto import blind_index


class NumberSearchMixin:
    """Add to a ModelAdmin; ``number_search_fields`` maps a blind-index field to its kind, e.g.
    ``{"mobile_index": "mobile", "id_number_index": "id_number"}``."""

    number_search_fields: dict[str, str] = {}

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        for field, kind in self.number_search_fields.items():
            index = blind_index(kind, term)
            if index:
                found = found | queryset.filter(**{field: index})
        return found, may_have_duplicates
