import django_filters
from django.core.exceptions import ValidationError
from django.utils.encoding import force_str
from django_filters.fields import IsoDateTimeField

from .datetimes import DatetimeRefused, parse_offset_datetime
from .models import ScheduledTask, TaskStatus


class OffsetIsoDateTimeField(IsoDateTimeField):
    """An ISO-8601 datetime that must carry its UTC offset, as everywhere in the API."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        # Django would give a naive value the current time zone; refuse it instead.
        try:
            return parse_offset_datetime(force_str(value))
        except DatetimeRefused as exc:
            raise ValidationError(str(exc), code=exc.code) from exc


class OffsetIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = OffsetIsoDateTimeField


class ScheduledTaskFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices)
    task_name = django_filters.CharFilter()
    queue = django_filters.CharFilter()
    scheduled_after = OffsetIsoDateTimeFilter(
        field_name="scheduled_for", lookup_expr="gte"
    )
    scheduled_before = OffsetIsoDateTimeFilter(
        field_name="scheduled_for", lookup_expr="lte"
    )

    class Meta:
        model = ScheduledTask
        fields = ["status", "task_name", "queue", "scheduled_after", "scheduled_before"]
