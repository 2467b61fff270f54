"""English stop words for theme extraction.

Shipped here because NLTK's list is a separate data download and no installed
package provides one. Lowercase; contractions use a straight apostrophe.

A theme names what a comment is about, so besides function words
(FUNCTION_WORDS) no word of a closed class that says *how much*, *how
often*, *whether* or *what the customer wants* is one (NOT_A_TOPIC), taken
from the vocabularies the text engine already keeps: VADER's degree words
("absolutely", "hardly") and negations ("never", "without"), the CX layer's
counts and ordinals ("three", "several", "third"), multiplicatives ("twice"),
its filler adverbs ("actually", "properly") and its words of wanting and
asking ("want", "need", "please"). A new word of one of those classes added
to the engine stops being a theme with it.
"""

from nltk.sentiment.vader import VaderConstants

from feedback.text import defaults as _text

FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are aren't as at
    be because been before being below between both but by
    can can't cannot could couldn't
    did didn't do does doesn't doing don't down during
    each few for from further
    had hadn't has hasn't have haven't having he he'd he'll he's her here here's
    hers herself him himself his how how's
    i i'd i'll i'm i've if in into is isn't it it's its itself
    let's me more most mustn't my myself
    no nor not of off on once only or other ought our ours ourselves out over own
    same shan't she she'd she'll she's should shouldn't so some such
    than that that's the their theirs them themselves then there there's these
    they they'd they'll they're they've this those through to too
    under until up upon us
    very was wasn't we we'd we'll we're we've were weren't
    what what's when when's where where's which while who who's whom why why's
    will with won't would wouldn't
    you you'd you'll you're you've your yours yourself yourselves
    also although always another anyone anything around away bit could've
    every ever get gets getting got gotten however just let lot lots many may
    might much must now okay one ones quite rather really said say says since
    still thing things though thus yet yes etc
    """.split()
)

#: Counts said as multiples: "charged twice", "called thrice".
MULTIPLICATIVES = frozenset({"once", "twice", "thrice"})

NOT_A_TOPIC: frozenset[str] = frozenset(
    word
    for word in (
        *VaderConstants.BOOSTER_DICT,
        *VaderConstants.NEGATE,
        *_text.NUMBER_WORDS,
        *_text.ORDINAL_WORDS,
        *_text.SLOT_WORDS["adverb"],
        *_text.RESOLUTION_WISHES,
        *MULTIPLICATIVES,
    )
    # The theme tokenizer splits "kind-of" into words that are topics elsewhere.
    if " " not in word and "-" not in word
)

STOP_WORDS: frozenset[str] = FUNCTION_WORDS | NOT_A_TOPIC
