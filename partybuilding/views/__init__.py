"""Party pages, all for staff (``views/staff/``): the organisation (branches → groups →
members, central households, the coverage of compounds, buildings and households) in
``organisation``, its create/edit forms in ``edit``, and 千万工程 (backbones against the annual
targets, the community governance academy) in ``backbones``; ``common`` holds what they share.

Every queryset comes from ``restrict()`` (``baohe.views`` mixins): a row outside the user's
scope answers 404 exactly like a missing one. Lists use ``select_related`` /
``prefetch_related`` and counting subqueries, so each page costs a fixed number of queries.
"""
