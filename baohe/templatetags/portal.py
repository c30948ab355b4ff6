"""Template helpers used across the portal."""

from django import template

from baohe.masking import mask_id_number, mask_mobile

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key, 0) if mapping else 0


@register.filter
def masked_mobile(value):
    return mask_mobile(value)


@register.filter
def masked_id(value):
    return mask_id_number(value)
