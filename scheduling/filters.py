from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.encoding import force_str
from django_filters.fields import IsoDateTimeField

from .models import ScheduledTask, TaskStatus


class OffsetIsoDateTimeField(IsoDateTimeField):
    """An ISO-8601 datetime that must carry its UTC offset, as everywhere in the API."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        # Django would give a naive value the current time zone; refuse it instead.
        try:
            parsed = parse_datetime(force_str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if parsed.tzinfo is None:
            raise ValidationError(
                "Give the datetime a UTC offset, such as Z or +00:00.", code="naive"
            )
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError(
                "The datetime is out of range.", code="out_of_range"
            ) from exc


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
