from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible


@deconstructible
class ChoiceListValidator:
    """A JSON list whose items all come from `allowed`."""

    def __init__(self, allowed: list[str]) -> None:
        self.allowed = list(allowed)

    def __call__(self, value) -> None:
        if not isinstance(value, list) or any(item not in self.allowed for item in value):
            raise ValidationError("Choose from: %(allowed)s.", params={"allowed": ", ".join(self.allowed)})

    def __eq__(self, other) -> bool:
        return isinstance(other, ChoiceListValidator) and other.allowed == self.allowed
