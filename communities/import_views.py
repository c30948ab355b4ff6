"""Registry import pages (issue 17), for the staff and secretary of a community:

- ``/registry/community/<id>/import/``: the templates to download (residents; party members and
  central households at ``…/import/party/template.xlsx``), the upload form with the kind of
  sheet (居民 / 党员与中心户), the community's recent imports;
- ``/registry/import/<id>/``: one import's progress (htmx polls it while the worker works), its
  report by row and column, the dry run's counts and the apply button;
- ``/registry/import/<id>/marked.xlsx``: the sheet with an error column (an audited export:
  it holds the full numbers the staff uploaded).

Every write is a service in ``communities.services.imports``; a community or an import outside
the user's change scope answers 404.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from baohe.exceptions import Conflict
from baohe.exports import XLSX, export_audit, export_response
from baohe.models import ImportJob
from baohe.scoping import CHANGE
from baohe.views import Crumb, staff_required

from .models import Community
from .services import imports as import_services

REPORT_ROWS_SHOWN = 200


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("导入内容"),
        choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.RESIDENTS,
        required=False,  # not sent: the residents sheet, as before there were kinds
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=gettext_lazy("导入文件"),
        help_text=gettext_lazy("下载的模板填写后保存的 .xlsx，或 .csv（UTF-8 或 GB18030）。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv", "class": "form-control"}),
    )


def _community(request, pk):
    return get_object_or_404(Community.objects.restrict(request.user, CHANGE).select_related("street"), pk=pk)


def _crumbs(community):
    return [Crumb(community.name, community.get_absolute_url())]


@staff_required
@require_http_methods(["GET", "POST"])
def import_home(request, pk):
    community = _community(request, pk)
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial={"kind": ImportJob.Kind.RESIDENTS})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = import_services.import_upload(
                    by=request.user,
                    community=community,
                    upload=form.cleaned_data["file"],
                    request=request,
                    kind=form.cleaned_data["kind"] or ImportJob.Kind.RESIDENTS,
                )
            except ValidationError as error:
                form.add_error("file", error.messages)
            else:
                messages.success(request, _("文件已上传，正在后台逐行校验。"))
                return redirect("communities:import_job", pk=job.pk)
        status = 400
    return render(
        request,
        "communities/import_home.html",
        {
            "community": community,
            "form": form,
            "jobs": import_services.import_recent(request.user, community),
            "breadcrumbs": _crumbs(community),
        },
        status=status,
    )


@staff_required
def import_template(request, pk, kind=ImportJob.Kind.RESIDENTS):
    """The community's template of ``kind`` (a registered kind, else 404): its places or party
    branches, no person (still stamped and audited, as every file the portal hands out)."""
    community = _community(request, pk)
    if kind not in import_services.KINDS:
        raise Http404
    handler = import_services.kind_of(kind)
    return export_response(
        request=request,
        book=handler.template(community),
        filename=str(handler.template_filename) % {"community": community.name},
        table="communities.import_template",
        rows=0,
        filters={"community": community.pk, "kind": kind},
        place=community,
    )


@staff_required
def import_job(request, pk):
    job = import_services.access_import_by_id(request.user, pk)
    plan = job.result if job.status == job.Status.APPLIED else job.plan
    labels = import_services.kind_of(job.kind).plan_labels
    context = {
        "job": job,
        "community": job.community,
        "plan_items": [
            (key, after if job.status == job.Status.APPLIED else before, plan.get(key, 0))
            for key, before, after in labels
        ],
        "report": job.errors[:REPORT_ROWS_SHOWN],
        "report_more": max(0, len(job.errors) - REPORT_ROWS_SHOWN),
        "breadcrumbs": [
            *_crumbs(job.community),
            Crumb(_("批量导入"), reverse("communities:import", args=[job.community_id])),
        ],
    }
    if request.headers.get("HX-Request"):
        return render(request, "communities/_import_status.html", context)
    return render(request, "communities/import_job.html", context)


@staff_required
def import_marked(request, pk):
    job = import_services.access_import_by_id(request.user, pk)
    if job.status not in (job.Status.VALIDATED, job.Status.APPLYING, job.Status.APPLIED):
        messages.error(request, _("校验完成后才能下载标注错误的表格。"))
        return redirect("communities:import_job", pk=job.pk)
    content = import_services.import_marked_sheet(job)
    stem = job.filename.rsplit(".", 1)[0]
    filename = _("%(name)s-错误标注.xlsx") % {"name": stem}
    export_audit(
        request=request,
        table="baohe.importjob.marked",
        rows=job.total_rows,
        filters={"import_job": job.pk},
        filename=filename,
        object_id=str(job.pk),
        street_id=job.street_id,
        community_id=job.community_id,
        detail={"error_rows": job.error_rows},
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@staff_required
@require_POST
def import_apply(request, pk):
    job = import_services.access_import_by_id(request.user, pk)
    try:
        import_services.import_apply_start(by=request.user, job=job)
    except Conflict as conflict:
        messages.error(request, conflict.message)
    else:
        messages.success(request, _("已开始导入，后台分批写入。"))
    return redirect("communities:import_job", pk=job.pk)
