import django_filters

from .models import ScheduledTask, TaskStatus


class ScheduledTaskFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices)
    task_name = django_filters.CharFilter()
    queue = django_filters.CharFilter()
    scheduled_after = django_filters.IsoDateTimeFilter(
        field_name="scheduled_for", lookup_expr="gte"
    )
    scheduled_before = django_filters.IsoDateTimeFilter(
        field_name="scheduled_for", lookup_expr="lte"
    )

    class Meta:
        model = ScheduledTask
        fields = ["status", "task_name", "queue", "scheduled_after", "scheduled_before"]
