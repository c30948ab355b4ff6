"""社区经费 pages: /funds/…"""

from django.urls import path

from . import views

app_name = "funds"
urlpatterns = [
    path("", views.fund_list, name="list"),
    path("fund/<int:pk>/", views.fund_detail, name="fund"),
    path("new/", views.proposal_new, name="new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/<slug:step>/", views.proposal_step, name="step"),
    path("files/<int:pk>/", views.proposal_file, name="file"),
]
