"""Dashboard URLs: the district at /dashboard/, a street, community or compound at
/dashboard/<level>/<pk>/, each with its chart data, tables (Excel) and lists; monthly reports."""

from django.urls import path, register_converter

from . import views


class LevelConverter:
    regex = "street|community|compound"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(LevelConverter, "level")

app_name = "dashboard"
urlpatterns = [
    path("", views.page, name="home"),
    path("chart-data/", views.chart_data, name="chart_data"),
    path("table/<slug:name>/", views.table, name="table"),
    path("list/<slug:metric>/", views.list_view, name="list"),
    path("<level:level>/<int:pk>/", views.page, name="page_at"),
    path("<level:level>/<int:pk>/chart-data/", views.chart_data, name="chart_data_at"),
    path("<level:level>/<int:pk>/table/<slug:name>/", views.table, name="table_at"),
    path("<level:level>/<int:pk>/list/<slug:metric>/", views.list_view, name="list_at"),
    path("report-card/", views.report_card, name="report_card"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>/download/", views.report_download, name="report_download"),
]
