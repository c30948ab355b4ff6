"""物业费缴纳率 (property-fee collection rate) of one compound, month by month: the recorded
months, newest first, and the form that records or corrects one (``services.fees.fee_rate_record``;
staff who may change the compound). Another community's compound answers 404. A whole sheet of
months and compounds comes in through the registry import (kind ``fees``, ``fee_imports.py``).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from baohe.exceptions import OutOfScope
from baohe.forms import add_service_errors
from baohe.scoping import CHANGE, VIEW
from baohe.views import staff_required

from .forms import FeeRateForm
from .models import Compound, CompoundFeeRate
from .services.fees import fee_rate_record
from .views import breadcrumbs_for

SHOWN_MONTHS = 24


@staff_required
def compound_fees(request, pk):
    compound = get_object_or_404(
        Compound.objects.restrict(request.user, VIEW).select_related("community__street__district"), pk=pk
    )
    can_change = Compound.objects.restrict(request.user, CHANGE).filter(pk=compound.pk).exists()
    form = FeeRateForm(request.POST or None) if can_change else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise OutOfScope(Compound._meta.verbose_name)
        if form.is_valid():
            try:
                row = fee_rate_record(
                    compound=compound,
                    month=form.cleaned_data["month"],
                    rate=form.cleaned_data["rate"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("已登记 %(month)s 物业费缴纳率 %(rate)s%%。") % {"month": f"{row.month:%Y-%m}", "rate": row.rate},
                )
                return redirect("communities:compound_fees", pk=compound.pk)
        status = 400
    rows = list(
        CompoundFeeRate.objects.filter(compound=compound).select_related("entered_by").order_by("-month")[:SHOWN_MONTHS]
    )
    context = {
        "compound": compound,
        "rows": rows,
        "form": form,
        "breadcrumbs": [*breadcrumbs_for(compound)],
    }
    return render(request, "communities/compound_fees.html", context, status=status)
