from rest_framework import serializers

from feedback.choices import Intent
from feedback.models import Customer, CustomerIdentity, FeedbackResponse


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerIdentity
        fields = ["kind", "value"]


class CustomerSerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "name", "created_at", "identities"]


class FeedbackSerializer(serializers.ModelSerializer):
    """A stored response, as the API returns it."""

    touchpoint = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    customer = CustomerSerializer(read_only=True, allow_null=True)  # null: anonymous feedback
    intents = serializers.ListField(
        child=serializers.ChoiceField(choices=Intent.choices),
        read_only=True,
        help_text="What the comment is about (complaint, churn_risk, high_effort, compliance_risk, praise).",
    )
    explanation = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        read_only=True,
        help_text="The terms that drove the sentiment label and the intents: [term as written, effect] pairs; "
        "the effect is a sentiment label or an intent.",
    )

    class Meta:
        model = FeedbackResponse
        fields = [
            "id",
            "touchpoint",
            "customer",
            "kind",
            "source",
            "external_id",
            "occurred_at",
            "received_at",
            "nps",
            "csat",
            "ces",
            "ves",
            "comment",
            "metadata",
            "nps_category",
            "csat_band",
            "sentiment",
            "sentiment_label",
            "intents",
            "explanation",
        ]
        read_only_fields = fields


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "error"])
    id = serializers.IntegerField(required=False)
    errors = serializers.DictField(required=False)


class BulkReplySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    error = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


class ThemeSerializer(serializers.Serializer):
    phrase = serializers.CharField()
    count = serializers.IntegerField(help_text="Negative comments that contain the phrase.")


class TopicWeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday (UTC) the week starts on.")
    volume = serializers.IntegerField()


class TopicFiguresSerializer(serializers.Serializer):
    name = serializers.CharField()
    volume = serializers.IntegerField(help_text="Responses tagged with the topic.")
    negative = serializers.IntegerField(help_text="Of those, the negative ones.")
    share_negative = serializers.FloatField(allow_null=True)
    trend = TopicWeekSerializer(many=True)


class ThemesReplySerializer(serializers.Serializer):
    comments_read = serializers.IntegerField(help_text="Negative comments without a topic that were read for `themes`.")
    topics = TopicFiguresSerializer(many=True)
    themes = ThemeSerializer(many=True, help_text="Unassigned terms: free terms of negative comments no topic caught.")
