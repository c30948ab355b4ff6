"""API pagination (kept apart from baohe.api so DRF's settings can import it early).

- :class:`Pagination`: page numbers (``?page=``, ``?page_size=`` up to 200).
- :class:`SignedCursorPagination`: DRF's cursor pages with a signed cursor (``baohe.query``): a
  cursor this server did not make for this ordering answers 400 ``{"cursor": [...]}``, never a
  database error from a forged position.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.utils.urls import replace_query_param

from .query import InvalidCursor, read_cursor, sign_cursor


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class SignedCursorPagination(pagination.CursorPagination):
    invalid_cursor_message = _("无效的分页游标，请从第一页重新开始。")  # type: ignore[assignment]  # lazy, as DRF's own

    def _salt(self):
        # A cursor is only good for the ordering it was made in (DRF sets it before decoding).
        return ",".join(self.ordering)

    def decode_cursor(self, request):
        token = request.query_params.get(self.cursor_query_param)
        if token is None:
            return None
        try:
            offset, reverse, position = read_cursor(token, salt=self._salt(), length=3)
        except InvalidCursor:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None
        if not isinstance(offset, int) or not 0 <= offset <= self.offset_cutoff or not isinstance(reverse, bool):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        if position is not None and not isinstance(position, str):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return pagination.Cursor(offset=offset, reverse=reverse, position=position)

    def encode_cursor(self, cursor):
        token = sign_cursor([cursor.offset, bool(cursor.reverse), cursor.position], salt=self._salt())
        return replace_query_param(self.base_url, self.cursor_query_param, token)
