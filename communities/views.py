"""Registry pages: browse district → street → community → compound → building → household,
create and edit inside one's scope, and the resident's "my building" page.

Every queryset comes from ``restrict()`` through the base mixins (``baohe.views``): a row
outside the user's scope answers 404 exactly like a missing one.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import CreateView, DetailView, UpdateView

from baohe.exceptions import Conflict
from baohe.exports import PrivilegedExportForm, export_response
from baohe.personal import RevealForm, RevealReason
from baohe.query import ChoiceField, IdField, IntegerField, QueryForm, TextField, read_query
from baohe.scoping import CHANGE, VIEW
from baohe.services import personal_reveal
from baohe.throttling import throttle_wait, throttled_message
from baohe.views import ScopedFormViewMixin, ScopedQuerysetMixin, StaffRequiredMixin, staff_required

from . import personal_data, search, selectors, services, timeline
from .exports import roster_book
from .forms import BuildingForm, CompoundForm, HouseholdForm, ResidentForm, ResidentLeaveForm
from .models import Building, Community, Compound, District, Household, Resident, Street


@login_required
def home(request):
    """Staff start at the widest level they may see."""
    user = request.user
    if not user.is_portal_staff:
        return redirect("communities:my_building")
    scope = user.get_scope(VIEW) if not user.is_superuser else None
    if scope is not None and not scope.everything:
        if len(scope.community_ids) == 1 and not scope.street_ids:
            return redirect("communities:community", pk=next(iter(scope.community_ids)))
        if len(scope.street_ids) == 1 and not scope.community_ids:
            return redirect("communities:street", pk=next(iter(scope.street_ids)))
    district = District.objects.order_by("pk").first()
    if district is None:
        return render(request, "communities/empty.html")
    return redirect(district)


def breadcrumbs_for(obj):
    """The chain of ancestors of a registry row, from the district down to ``obj``."""
    chain = []
    node = obj
    while node is not None:
        chain.append(node)
        if isinstance(node, Resident):
            node = node.household
        elif isinstance(node, Household):
            node = node.building
        elif isinstance(node, Building):
            node = node.compound
        elif isinstance(node, Compound):
            node = node.community
        elif isinstance(node, Community):
            node = node.street
        elif isinstance(node, Street):
            node = node.district
        else:
            node = None
    return list(reversed(chain))


class LevelView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    """A level of the tree with its child rows and the counts below each."""

    template_name = "communities/level.html"
    level = None
    child_model = None
    child_filter = None
    add_url_name = None

    def children(self):
        queryset = self.child_model.objects.restrict(self.request.user, VIEW).filter(**{self.child_filter: self.object})
        return queryset.order_by(*self.child_model._meta.ordering or ["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = selectors.level_counts(user=self.request.user, level=self.level, parent_id=self.object.pk)
        children = list(self.children())
        context.update(
            level=self.level,
            counts=counts,
            rows=[(child, counts.row(child.pk)) for child in children],
            child_label=self.child_model._meta.verbose_name,
            breadcrumbs=breadcrumbs_for(self.object)[:-1],
            can_add=self.add_url_name
            and type(self.object).objects.restrict(self.request.user, CHANGE).filter(pk=self.object.pk).exists(),
            add_url=reverse(self.add_url_name, args=[self.object.pk]) if self.add_url_name else None,
        )
        return context


class DistrictDetailView(LevelView):
    model = District
    level = "district"
    child_model = Street
    child_filter = "district"

    def get_context_data(self, **kwargs):
        """A user who sees part of the district (a street official) reads the page titled with
        their street(s), and told the totals are theirs only."""
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if not (user.is_superuser or user.get_scope(VIEW).everything):
            context["partial_label"] = "、".join(child.name for child, _row in context["rows"])
        return context


class StreetDetailView(LevelView):
    model = Street
    level = "street"
    child_model = Community
    child_filter = "street"

    def get_queryset(self):
        return super().get_queryset().select_related("district")


class CommunityDetailView(LevelView):
    model = Community
    level = "community"
    child_model = Compound
    child_filter = "community"
    add_url_name = "communities:compound_add"

    def get_queryset(self):
        return super().get_queryset().select_related("street__district")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context["can_add"]:
            context["pending_transfers"] = services.pending_incoming_count(self.request.user)
            context["roster_url"] = reverse("communities:roster_export", args=[self.object.pk])
            context["import_url"] = reverse("communities:import", args=[self.object.pk])
            context["export_form"] = PrivilegedExportForm()
        return context


@staff_required
@require_http_methods(["GET", "POST"])
def roster_export(request, pk):
    """GET: the community's residents' roster, numbers masked. POST ``privileged`` + ``reason``:
    the same with full numbers. 404 outside the user's view scope, 403 for who may only view it."""
    community = get_object_or_404(Community.objects.restrict(request.user, VIEW), pk=pk)
    if not Community.objects.restrict(request.user, CHANGE).filter(pk=community.pk).exists():
        raise PermissionDenied(_("居民花名册仅供本社区工作人员导出。"))
    form = PrivilegedExportForm(request.POST if request.method == "POST" else None)
    privileged, reason = False, ""
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
            return redirect(community)
        privileged, reason = form.cleaned_data["privileged"], form.cleaned_data["reason"]
    residents = (
        Resident.objects.restrict(request.user, CHANGE)
        .filter(community=community)
        .select_related("household__building__compound")
        .order_by(
            "household__building__compound__name", "household__building_id", "household__unit", "household__room", "pk"
        )
    )
    book, rows = roster_book(community, residents, privileged=privileged)
    return export_response(
        request=request,
        book=book,
        filename=_("%(community)s-居民花名册.xlsx") % {"community": community.name},
        table="communities.resident",
        rows=rows,
        filters={"community": community.pk},
        privileged=privileged,
        reason=reason,
        place=community,
    )


class CompoundDetailView(LevelView):
    model = Compound
    level = "compound"
    child_model = Building
    child_filter = "compound"
    add_url_name = "communities:building_add"

    def get_queryset(self):
        return super().get_queryset().select_related("community__street__district")

    def children(self):
        return super().children().select_related("head")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = context["can_add"]
        context["edit_url"] = reverse("communities:compound_edit", args=[self.object.pk])
        return context


class BuildingQuery(QueryForm):
    """The building page's filters: a flag, a unit, a search (room, name, 尾号)."""

    flag = ChoiceField(
        label=_("标记"),
        choices=[(name, Household._meta.get_field(name).verbose_name) for name in Household.FLAG_FIELDS],
    )
    unit = IntegerField(label=_("单元"), min_value=1, max_value=99)
    q = TextField(label=_("搜索"))


class BuildingDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    model = Building
    template_name = "communities/building_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("compound__community__street__district", "head")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        can_change = Building.objects.restrict(self.request.user, CHANGE).filter(pk=self.object.pk).exists()
        values = read_query(self.request, BuildingQuery)
        filters = {"flag": values["flag"] or "", "unit": values["unit"], "q": values["q"] or ""}
        rows = list(selectors.household_rows(user=self.request.user, building=self.object, **filters))
        counts = selectors.building_flag_counts(user=self.request.user, building=self.object)
        context.update(
            filters=filters,
            filtered=any(filters.values()),
            flag_options=[
                (name, Household._meta.get_field(name).verbose_name, counts[name]) for name in Household.FLAG_FIELDS
            ],
            unit_options=range(1, self.object.units + 1),
            total_households=counts["all"],
            # Archived households (nobody living there) are listed apart, after the others.
            households=[row for row in rows if row.archived_at is None],
            archived_households=[row for row in rows if row.archived_at is not None],
            breadcrumbs=breadcrumbs_for(self.object)[:-1],
            can_change=can_change,
        )
        return context


class HouseholdDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    model = Household
    template_name = "communities/household_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("building__compound__community__street__district")
            .prefetch_related(Prefetch("residents", queryset=Resident.objects.order_by("pk")))
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        residents = list(self.object.residents.all())
        context.update(
            # 在住 first; who moved away or died is listed apart (collapsed).
            living_residents=[r for r in residents if r.status == Resident.Status.LIVING],
            former_residents=[r for r in residents if r.status != Resident.Status.LIVING],
            breadcrumbs=breadcrumbs_for(self.object)[:-1],
            can_change=Household.objects.restrict(self.request.user, CHANGE).filter(pk=self.object.pk).exists(),
            household_sections=selectors.household_sections(self.object, self.request.user),
        )
        return context


class ResidentDetailView(StaffRequiredMixin, ScopedQuerysetMixin, DetailView):
    """A resident's record, mobile and ID number masked for everyone. Staff who may change it
    get a "查看完整号码" button: a POST with a reason (:class:`ResidentRevealView`) answers this
    page once with the full numbers, and that reveal is one line in the audit log."""

    model = Resident
    template_name = "communities/resident_detail.html"
    revealed = None

    def get_queryset(self):
        return super().get_queryset().select_related("household__building__compound__community__street__district")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        can_change = Resident.objects.restrict(self.request.user, CHANGE).filter(pk=self.object.pk).exists()
        context.update(
            breadcrumbs=breadcrumbs_for(self.object)[:-1],
            can_change=can_change,
            revealed=self.revealed,
            reveal_form=kwargs.get("reveal_form") or (RevealForm() if can_change else None),
        )
        if can_change and self.object.status == Resident.Status.LIVING:
            context["leave_form"] = ResidentLeaveForm(initial={"left_on": timezone.localdate()})
            context["retention_months"] = settings.RESIDENT_RETENTION_MONTHS
        return context


class ResidentRevealView(ResidentDetailView):
    """POST: reveal this resident's full numbers with a reason (``baohe.services.personal_reveal``).

    404 outside the user's view scope, 403 when they may view but not change the record; the
    reveals of one user are throttled (``THROTTLE_RATE_REVEAL``, shared with the API)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = RevealForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(reveal_form=form), status=400)
        wait = throttle_wait(request, "reveal")
        if wait is not None:
            form.add_error(None, throttled_message(wait))
            response = self.render_to_response(self.get_context_data(reveal_form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        self.revealed = personal_reveal(
            user=request.user, obj=self.object, reason=form.cleaned_data["reason"], request=request
        )
        self.revealed["reason"] = RevealReason(form.cleaned_data["reason"]).label
        return self.render_to_response(self.get_context_data())


@require_POST
@login_required
def resident_leave(request, pk):
    """迁出 / 去世 from the staff resident page (``services.resident_move_away`` / ``resident_record_death``)."""
    resident = get_object_or_404(Resident.objects.restrict(request.user, CHANGE), pk=pk)
    form = ResidentLeaveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(resident)
    service = (
        services.resident_move_away
        if form.cleaned_data["status"] == Resident.Status.MOVED_AWAY
        else services.resident_record_death
    )
    try:
        service(resident=resident, by=request.user, on=form.cleaned_data["left_on"], request=request)
    except Conflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            gettext("已将 %(name)s 登记为“%(status)s”。")
            % {"name": resident.name, "status": resident.get_status_display()},
        )
    return redirect(resident)


class RegistryFormView(StaffRequiredMixin, ScopedFormViewMixin):
    """Create or edit a registry row; a create happens under a parent the user may change."""

    template_name = "communities/form.html"
    parent_model = None
    parent_kwarg = None
    parent_field = None

    def get_parent(self):
        if not hasattr(self, "_parent"):
            self._parent = get_object_or_404(
                self.parent_model.objects.restrict(self.request.user, CHANGE), pk=self.kwargs[self.parent_kwarg]
            )
        return self._parent

    def get_initial(self):
        initial = super().get_initial()
        if self.parent_kwarg:
            initial[self.parent_field] = self.get_parent()
        return initial

    def get_success_url(self):
        return self.object.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if getattr(self, "object", None) is not None:
            # A rejected form has already written its values onto self.object: show the saved row.
            anchor = type(self.object).objects.get(pk=self.object.pk)
        else:
            anchor = self.get_parent()
        context["breadcrumbs"] = breadcrumbs_for(anchor)
        context["title"] = self.title
        context["cancel_url"] = anchor.get_absolute_url()
        return context


class CompoundCreateView(RegistryFormView, CreateView):
    model = Compound
    form_class = CompoundForm
    parent_model = Community
    parent_kwarg = "community_pk"
    parent_field = "community"
    title = _("新增小区")
    success_message = _("已新增小区 %(object)s。")


class CompoundUpdateView(RegistryFormView, UpdateView):
    model = Compound
    form_class = CompoundForm
    title = _("编辑小区")
    success_message = _("已保存小区 %(object)s。")


class BuildingCreateView(RegistryFormView, CreateView):
    model = Building
    form_class = BuildingForm
    parent_model = Compound
    parent_kwarg = "compound_pk"
    parent_field = "compound"
    title = _("新增楼栋")
    success_message = _("已新增楼栋 %(object)s。")


class BuildingUpdateView(RegistryFormView, UpdateView):
    model = Building
    form_class = BuildingForm
    title = _("编辑楼栋")
    success_message = _("已保存楼栋 %(object)s。")


class HouseholdSaveMixin:
    """A household is saved by ``services.household_save``: its visit plans follow its flags at once."""

    def save_form(self, form):
        return services.household_save(instance=form.save(commit=False), by=self.request.user, request=self.request)


class HouseholdCreateView(HouseholdSaveMixin, RegistryFormView, CreateView):
    model = Household
    form_class = HouseholdForm
    parent_model = Building
    parent_kwarg = "building_pk"
    parent_field = "building"
    title = _("新增住户")
    success_message = _("已新增住户 %(object)s。")


class HouseholdUpdateView(HouseholdSaveMixin, RegistryFormView, UpdateView):
    model = Household
    form_class = HouseholdForm
    title = _("编辑住户")
    success_message = _("已保存住户 %(object)s。")


class ResidentFormMixin:
    """The resident form checks a duplicate ID number by scope (``forms.check_id_number``): it
    needs the request (the audit line's client address), and answers 429 over the lookup cap."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        return kwargs

    def form_invalid(self, form):
        response = super().form_invalid(form)
        limited = getattr(form, "rate_limited", None)
        if limited is not None:
            response.status_code = 429
            response["Retry-After"] = str(limited.wait)
        return response


class ResidentCreateView(ResidentFormMixin, RegistryFormView, CreateView):
    model = Resident
    form_class = ResidentForm
    parent_model = Household
    parent_kwarg = "household_pk"
    parent_field = "household"
    title = _("新增居民")
    success_message = _("已新增居民 %(object)s。")


class ResidentUpdateView(ResidentFormMixin, RegistryFormView, UpdateView):
    model = Resident
    form_class = ResidentForm
    title = _("编辑居民")
    success_message = _("已保存居民 %(object)s。")


@login_required
def my_data(request):
    """我的信息: everything the portal holds about the signed-in person (phone first), with
    downloads and the ways to ask for a correction or a deletion (PIPL Arts. 45–47)."""
    sections = personal_data.personal_data(request.user)
    return render(
        request,
        "communities/my_data.html",
        {"sections": sections, "has_records": any(s.key == "residence" and s.rows for s in sections)},
    )


@login_required
def my_data_download(request, fmt):
    """我的信息 as a file (``json`` or ``xlsx``); each download is one DATA_DOWNLOAD audit line."""
    now = timezone.now()
    sections = personal_data.personal_data(request.user)
    personal_data.download_audit(user=request.user, request=request, sections=sections, fmt=fmt)
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    if fmt == "json":
        response = HttpResponse(
            personal_data.json_bytes(sections, user=request.user, now=now), content_type="application/json"
        )
    else:
        response = HttpResponse(
            personal_data.workbook_bytes(sections, user=request.user, now=now),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.{fmt}"'
    return response


@login_required
def my_building(request):
    """The resident's phone page: their household, building, and who serves them."""
    records = list(
        Resident.objects.restrict(request.user, VIEW)
        .filter(user=request.user)
        .select_related("household__building__compound__community", "household__building__head")
    )
    households = []
    for record in records:
        household = record.household
        households.append(
            {
                "household": household,
                "building": household.building,
                "compound": household.building.compound,
                "community": household.building.compound.community,
                "servers": selectors.household_servers(household, viewer=request.user),
            }
        )
    return render(request, "communities/my_building.html", {"households": households})


class SearchQuery(QueryForm):
    """The top bar's search box."""

    q = TextField(label=_("搜索"))


@staff_required
def search_page(request):
    """Search everywhere (the top bar's box): requests, residents and households in the user's
    scope, grouped by kind (``communities.search``)."""
    query = read_query(request, SearchQuery)["q"] or ""
    groups = search.search_everything(request.user, query) if query else []
    return render(
        request,
        "communities/search.html",
        {"query": query, "search_query": query, "groups": groups, "limit": search.GROUP_LIMIT},
    )


@staff_required
def household_timeline(request, pk):
    """A household's timeline (``communities.timeline``): loaded into its page by htmx, a page of
    its own without JavaScript. 404 outside the user's scope."""
    household = get_object_or_404(
        Household.objects.restrict(request.user, VIEW).select_related("building__compound"), pk=pk
    )
    context = {
        "household": household,
        "entries": timeline.household_timeline(household, request.user),
        "limit": timeline.TIMELINE_LIMIT,
    }
    if request.headers.get("HX-Request"):
        return render(request, "communities/_household_timeline.html", context)
    context["breadcrumbs"] = breadcrumbs_for(household)
    return render(request, "communities/household_timeline.html", context)


class AutocompleteQuery(QueryForm):
    """What a staff form's resident or household box asks (``communities.widgets``)."""

    q = TextField(label=_("搜索"))
    community = IdField(label=_("社区"))


AUTOCOMPLETE_LIMIT = 20


@staff_required
def autocomplete(request, kind):
    """JSON for the resident and household boxes of staff forms: ``{"results": [{"value", "text"}]}``,
    at most 20, among the rows the user may change (``restrict(user, CHANGE)``: an official, who
    changes nothing, gets none); the words as in the top bar's search (``communities.search``)."""
    if kind not in ("residents", "households"):
        raise Http404
    values = read_query(request, AutocompleteQuery, notify=False)
    words = search.parse(values["q"] or "")
    if not words:
        return JsonResponse({"results": []})
    if kind == "residents":
        rows = search.search_residents(request.user, words, action=CHANGE).filter(status=Resident.Status.LIVING)
    else:
        rows = search.search_households(request.user, words, action=CHANGE).filter(archived_at__isnull=True)
    if values["community"]:
        rows = rows.filter(community_id=values["community"])
    results = []
    for row in rows[:AUTOCOMPLETE_LIMIT]:
        if kind == "residents":
            household = row.household
            text = f"{row.name}（{household.compound.name} {household}）{row.masked_mobile}"
        else:
            text = f"{row.compound.name} {row}"
        results.append({"value": row.pk, "text": text})
    return JsonResponse({"results": results})
