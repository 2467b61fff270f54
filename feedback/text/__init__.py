"""The text-understanding engine of CVX: a CX layer over NLTK's VADER.

``analyse(text)`` returns an `Analysis`: VADER's compound in [-1, 1] with
domain terms, phrases and emoji taken into account, its sentiment label, the
intents found (complaint, churn_risk, high_effort, compliance_risk, praise),
the terms that drove both, and the lexicon version. See
`feedback.text.engine` for how a comment is read and
`feedback.text.patterns` for the phrase syntax.

Wiring in:

    from feedback.text import CXLexicon, analyse, set_default_lexicon

    analysis = analyse(comment)                      # defaults, cached per process
    lexicon = CXLexicon(terms=[("hung up", -2.5)],   # admin rows on top of the defaults
                        phrases=[("churn_risk", "port my number", True)],
                        version="db-42")
    set_default_lexicon(lexicon)                     # after an admin edit

``validate_term(term, valence)``, ``validate_phrase(phrase)`` and
``validate_intent(intent)`` raise django's ValidationError with the field
named, for the admin forms.
"""

from feedback.text.engine import (
    COMPLAINT_INTENTS,
    Analysis,
    CXLexicon,
    analyse,
    analyse_many,
    default_lexicon,
    is_complaint,
    set_default_lexicon,
    validate_intent,
    validate_phrase,
    validate_term,
)
from feedback.text.patterns import INTENTS

__all__ = [
    "COMPLAINT_INTENTS",
    "INTENTS",
    "Analysis",
    "CXLexicon",
    "analyse",
    "analyse_many",
    "default_lexicon",
    "is_complaint",
    "set_default_lexicon",
    "validate_intent",
    "validate_phrase",
    "validate_term",
]
