"""Staff pages of the party organisation: ``organisation`` (lists and detail pages), ``edit``
(create and edit forms), ``backbones`` (千万工程 and the community governance academy)."""
