"""Registry writes with rules, by concern:

- :mod:`.transfers` — the scope-aware duplicate-ID answer (no cross-community oracle) and 迁入
  (move-in) requests between communities;
- :mod:`.imports` — the registry import from spreadsheets (upload, validate with a dry run,
  apply in resumable batches; import it as ``communities.services.imports``);
- :mod:`.fees` — 物业费缴纳率: a compound's monthly rate (``fee_rate_record``), the one write of
  the page, the API and the ``fees`` import kind, and the compound's derived latest rate;
- :mod:`.households` — saving a household, and the hooks the apps above run when households'
  flags or servers change (``visits``: their plans, at once);
- :mod:`.retention` — 迁出 / 去世, household archive, and the nightly anonymisation of people who
  left more than ``RESIDENT_RETENTION_MONTHS`` ago (PIPL Art. 47).

The generic registry save/delete (validate, save, re-check scope, audit the change) is
``baohe.services.scoped_save`` / ``scoped_delete``. Import from the package:
``from communities.services import transfer_request``.
"""

from .households import household_save, households_changed, register_households_changed
from .retention import (
    ANONYMOUS_NAME,
    Anonymiser,
    ArchiveHook,
    PersonTraces,
    household_archive_if_empty,
    households_archive_sync,
    register_anonymiser,
    register_archive_hook,
    resident_anonymise,
    resident_move_away,
    resident_record_death,
    residents_anonymise_due,
    retention_cutoff,
)
from .transfers import (
    LOOKUP_WINDOW,
    DuplicateInScope,
    access_transfer_by_id,
    lookup_wait,
    may_cancel,
    may_decide,
    pending_incoming_count,
    registered_elsewhere_message,
    resident_id_number_check,
    sees_person,
    shown_name,
    transfer_approve,
    transfer_cancel,
    transfer_reject,
    transfer_request,
    transfer_request_from_import,
)

__all__ = [
    "ANONYMOUS_NAME",
    "LOOKUP_WINDOW",
    "Anonymiser",
    "ArchiveHook",
    "DuplicateInScope",
    "PersonTraces",
    "access_transfer_by_id",
    "household_archive_if_empty",
    "household_save",
    "households_changed",
    "households_archive_sync",
    "lookup_wait",
    "may_cancel",
    "may_decide",
    "pending_incoming_count",
    "register_anonymiser",
    "register_archive_hook",
    "register_households_changed",
    "registered_elsewhere_message",
    "resident_anonymise",
    "resident_id_number_check",
    "resident_move_away",
    "resident_record_death",
    "residents_anonymise_due",
    "retention_cutoff",
    "sees_person",
    "shown_name",
    "transfer_approve",
    "transfer_cancel",
    "transfer_reject",
    "transfer_request",
    "transfer_request_from_import",
]
