from django.urls import re_path
from rest_framework.routers import SimpleRouter

from . import views

# Every route answers with and without its trailing slash.
router = SimpleRouter(trailing_slash="/?")
router.register("tasks", views.ScheduledTaskViewSet, basename="task")
router.register("registered-tasks", views.RegisteredTaskViewSet, basename="registered-task")

urlpatterns = [
    re_path(r"^schedule/?$", views.SchedulingViewSet.as_view({"post": "schedule"}), name="schedule"),
    re_path(
        r"^unschedule/?$",
        views.SchedulingViewSet.as_view({"post": "unschedule"}),
        name="unschedule",
    ),
    *router.urls,
]
