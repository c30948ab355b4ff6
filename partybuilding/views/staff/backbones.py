"""千万工程 pages: progress of backbones against each street's annual target, a street's
communities, the targets, and the community governance academy (社区治理学院): its courses,
sessions and each session's attendance sheet.

Scope as everywhere: rows come from ``restrict()``; a street or session outside the user's
scope answers 404. District and street users see whole streets; community staff see their
own community's numbers beside their street's target.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import CreateView, DetailView, TemplateView, UpdateView

from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW, may_change_anything, user_scope
from baohe.views import Crumb, PagedListView, ScopedQuerysetMixin, StaffRequiredMixin
from communities.models import Street

from ... import selectors, services
from ...forms import BackboneTargetForm, StreetProgressQuery, TargetQuery, TrainingSessionForm, YearQuery
from ...models import Backbone, BackboneTarget, Course, TrainingSession
from ..common import PAGE_SIZE


def backbone_crumb(year=None):
    url = reverse("partybuilding:backbones")
    return Crumb(gettext_lazy("千万工程"), f"{url}?year={year}" if year else url)


class YearMixin:
    """``?year=`` (default: this year), read once through ``query_form`` (``YearQuery`` or a form
    built on it); a bad value is ignored with a notice."""

    query_form = YearQuery

    @cached_property
    def query(self):
        return read_query(self.request, self.query_form)

    @property
    def year(self):
        return self.query["year"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        years = set(selectors.backbone_years(self.request.user)) | {self.year, timezone.localdate().year}
        context.update(year=self.year, years=sorted(years, reverse=True))
        return context


def may_set_targets(user):
    scope = user_scope(user, CHANGE)
    return scope is None or scope.everything or bool(scope.street_ids)


class ProgressView(StaffRequiredMixin, YearMixin, TemplateView):
    """Each street's backbones of the year against its target (party and mass, selected and trained)."""

    template_name = "partybuilding/backbone_progress.html"

    def get(self, request, *args, **kwargs):
        scope = user_scope(request.user, VIEW)
        if scope is not None and not scope.everything and not scope.street_ids and scope.community_ids:
            # Community staff: their street's page shows their community beside the street's target.
            street_id = Street.objects.restrict(request.user, VIEW).values_list("pk", flat=True).first()
            if street_id is not None:
                return redirect(f"{reverse('partybuilding:backbone_street', args=[street_id])}?year={self.year}")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows, totals = selectors.backbone_progress(self.request.user, self.year)
        context.update(rows=rows, totals=totals, can_set_targets=may_set_targets(self.request.user))
        return context


class StreetProgressView(StaffRequiredMixin, YearMixin, ScopedQuerysetMixin, DetailView):
    """One street: its target and totals, per community progress, and the backbones."""

    model = Street
    template_name = "partybuilding/backbone_street.html"
    context_object_name = "street"
    query_form = StreetProgressQuery

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, street = self.request.user, self.object
        target, rows, total = selectors.backbone_street_progress(user, street, self.year)
        backbones = (
            Backbone.objects.restrict(user, VIEW)
            .filter(street=street, year=self.year)
            .select_related("resident__household__building__compound", "community")
            .annotate(sessions=Count("attendances", filter=Q(attendances__attended=True)))
            .order_by("community__code", "kind", "resident__name", "pk")
        )
        kind = self.query["kind"] or ""
        if kind:
            backbones = backbones.filter(kind=kind)
        can_target = BackboneTarget.objects.restrict(user, CHANGE).filter(pk=getattr(target, "pk", None)).exists()
        context.update(
            breadcrumbs=[backbone_crumb(self.year)],
            target=target,
            rows=rows,
            total=total,
            backbones=backbones[:200],
            kinds=Backbone.Kind.choices,
            selected_kind=kind,
            can_edit_target=can_target,
            can_add_target=target is None and Street.objects.restrict(user, CHANGE).filter(pk=street.pk).exists(),
        )
        return context


class TargetFormView(StaffRequiredMixin, ScopedQuerysetMixin):
    model = BackboneTarget
    form_class = BackboneTargetForm
    template_name = "partybuilding/backbone_target_form.html"
    scope_action = CHANGE
    title = ""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form):
        try:
            self.object = services.backbone_target_save(instance=form.save(commit=False), by=self.request.user)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("已保存 %(target)s。") % {"target": self.object})
        return HttpResponseRedirect(
            f"{reverse('partybuilding:backbone_street', args=[self.object.street_id])}?year={self.object.year}"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=self.title, breadcrumbs=[backbone_crumb()], cancel_url=reverse("partybuilding:backbones"))
        return context


class TargetCreateView(TargetFormView, CreateView):
    title = gettext_lazy("设定骨干年度目标")

    def get_initial(self):
        initial = super().get_initial()
        query = read_query(self.request, TargetQuery)
        if query["street"] is not None:
            initial["street"] = Street.objects.restrict(self.request.user, CHANGE).filter(pk=query["street"]).first()
        initial["year"] = query["year"]
        return initial


class TargetUpdateView(TargetFormView, UpdateView):
    title = gettext_lazy("修改骨干年度目标")


# --- 社区治理学院 ------------------------------------------------------------------------------------------
class TrainingView(StaffRequiredMixin, YearMixin, PagedListView):
    """The academy: the course catalogue and the year's sessions with their attendance."""

    template_name = "partybuilding/backbone_training.html"
    context_object_name = "sessions"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return (
            TrainingSession.objects.restrict(self.request.user, VIEW)
            .filter(starts_at__year=self.year)
            .select_related("course", "street", "community")
            .annotate(attended=Count("attendances", filter=Q(attendances__attended=True)))
            .order_by("-starts_at", "-pk")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            breadcrumbs=[backbone_crumb(self.year)],
            courses=Course.objects.filter(is_active=True).annotate(session_count=Count("sessions")).order_by("name"),
            can_add=may_change_anything(self.request.user),
        )
        return context


class SessionDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    """A session and its attendance sheet: the roster of backbones, ticked when they came."""

    model = TrainingSession
    template_name = "partybuilding/backbone_session.html"
    context_object_name = "session"

    def get_queryset(self):
        return super().get_queryset().select_related("course", "street", "community")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, session = self.request.user, self.object
        roster = list(
            services.session_roster(session, user, VIEW)
            .select_related("resident__household__building__compound", "community")
            .order_by("community__code", "kind", "resident__name", "pk")
        )
        changeable = set(services.session_roster(session, user, CHANGE).values_list("pk", flat=True))
        attended = set(
            session.attendances.filter(attended=True, backbone_id__in=[b.pk for b in roster]).values_list(
                "backbone_id", flat=True
            )
        )
        context.update(
            breadcrumbs=[
                backbone_crumb(),
                Crumb(gettext_lazy("社区治理学院"), reverse("partybuilding:backbone_training")),
            ],
            roster=[(b, b.pk in attended, b.pk in changeable) for b in roster],
            attended_count=len(attended),
            can_record=bool(changeable),
        )
        return context

    def post(self, request, *args, **kwargs):
        self.object = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        try:
            result = services.attendance_record(
                session_id=self.object.pk, attended_ids=request.POST.getlist("attended"), by=request.user
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("已保存签到：到课 %(present)s 人，缺课 %(absent)s 人。")
                % {"present": len(result.attended), "absent": len(result.absent)},
            )
        return redirect(self.object)


class SessionCreateView(StaffRequiredMixin, CreateView):
    model = TrainingSession
    form_class = TrainingSessionForm
    template_name = "partybuilding/backbone_target_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        initial["starts_at"] = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
        return initial

    def form_valid(self, form):
        try:
            self.object = services.training_session_save(instance=form.save(commit=False), by=self.request.user)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("已开班：%(session)s。") % {"session": self.object})
        return HttpResponseRedirect(self.object.get_absolute_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=_("新开培训班次"),
            breadcrumbs=[
                backbone_crumb(),
                Crumb(gettext_lazy("社区治理学院"), reverse("partybuilding:backbone_training")),
            ],
            cancel_url=reverse("partybuilding:backbone_training"),
        )
        return context
