from django.urls import re_path
from rest_framework.routers import SimpleRouter

from . import views


class OptionalSlashRouter(SimpleRouter):
    """A router whose routes answer with and without their trailing slash."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("tasks", views.ScheduledTaskViewSet, basename="task")
router.register(
    "registered-tasks", views.RegisteredTaskViewSet, basename="registered-task"
)

urlpatterns = [
    re_path(r"^health/?$", views.HealthView.as_view(), name="health"),
    re_path(
        r"^schedule/?$",
        views.SchedulingViewSet.as_view({"post": "schedule"}),
        name="schedule",
    ),
    re_path(
        r"^unschedule/?$",
        views.SchedulingViewSet.as_view({"post": "unschedule"}),
        name="unschedule",
    ),
    *router.urls,
]
