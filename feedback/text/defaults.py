"""The CX layer's default data: domain terms, intent phrases, slot words and
spellings.

Everything here is plain data a CX admin will later be able to override row by
row (terms as ``(term, valence)``, phrases as ``(intent, phrase, negatable)``),
so it is written in the same shape the admin will use. Phrase syntax (see
``feedback.text.patterns``): lowercase words matched token by token,
``{slot}`` for one word of a class (``{number}``, ``{duration}`` ...), ``...``
for a gap of a few words within one sentence, ``{end}`` for the end of a
sentence.

Terms with a valence at or below ``COMPLAINT_CUE_VALENCE`` are complaint cues
as well (see ``feedback.text.engine``), so a service failure is written once,
here, with its valence, and not again as a complaint phrase.
"""

from __future__ import annotations

from itertools import product

# --- slot vocabularies --------------------------------------------------------

#: Counts in words; digits are recognised by the matcher. "one" is left out on
#: purpose: "called one time" is not repeated effort.
NUMBER_WORDS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty "
    "hundred several multiple many numerous countless few couple dozen dozens"
).split()

#: Ordinals from "second" up; "2nd", "3rd", "14th" are recognised by the matcher.
ORDINAL_WORDS = (
    "second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "umpteenth nth hundredth millionth"
).split()

DURATION_WORDS = (
    "minutes mins hours hrs hour days day weeks wks week months month fortnight ages years"
).split()

#: What a customer's service is called; "no {service}" is a failure.
SERVICE_WORDS = (
    "internet broadband wifi connection line phone landline signal service network "
    "fibre fiber tv router hub connectivity coverage"
).split()

#: Where a leaving customer goes: rival providers (single-word names) and the
#: generic words that stand for one.
PROVIDER_WORDS = (
    "bt sky virgin talktalk vodafone ee plusnet hyperoptic zen o2 giffgaff shell "
    "starlink gigaclear youfibre trooli cuckoo community origin kcom truespeed "
    "another competitor competitors elsewhere someone somebody"
).split()

#: Ways of contacting a company; "{contact} ... times" is repeated effort.
CONTACT_WORDS = (
    "called call calling rang ring ringing phoned phone phoning chased chase chasing "
    "emailed email emailing contacted contact messaged wrote written spoke spoken "
    "explained explain complained tried rescheduled visited sent asked rung chatted "
    "reset restarted restart rebooted reboot"
).split()

#: What a customer signs up for; "cancel ... {account}" is churn.
ACCOUNT_WORDS = (
    "contract contracts account broadband subscription service services package "
    "line landline tv membership plan deal internet"
).split()

SLOT_WORDS: dict[str, tuple[str, ...]] = {
    # any word ending in "-ing" fills {ing} (the tokenizer adds it), besides these
    "ing": (),
    "number": tuple(NUMBER_WORDS),
    "ordinal": tuple(ORDINAL_WORDS),
    "duration": tuple(DURATION_WORDS),
    "service": tuple(SERVICE_WORDS),
    "provider": tuple(PROVIDER_WORDS),
    "contact": tuple(CONTACT_WORDS),
    # between a negation and its verb: "never even showed up", "didn't actually fix"
    "adverb": ("ever", "even", "actually", "really", "once", "properly", "bother"),
    "account": tuple(ACCOUNT_WORDS),
}

# --- spelling ------------------------------------------------------------------

#: Token -> the word it stands for. Applied before matching and, where the
#: word differs, in the text VADER scores. Contractions without an apostrophe
#: get one so that VADER's negation sees them; common misspellings of words
#: that carry sentiment or match a phrase are corrected.
SPELLINGS: dict[str, str] = {
    # contractions
    "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "cant": "can't",
    "wont": "won't", "isnt": "isn't", "wasnt": "wasn't", "arent": "aren't",
    "werent": "weren't", "havent": "haven't", "hasnt": "hasn't", "hadnt": "hadn't",
    "couldnt": "couldn't", "wouldnt": "wouldn't", "shouldnt": "shouldn't",
    "im": "i'm", "ive": "i've", "youre": "you're", "theyre": "they're",
    "thats": "that's", "whats": "what's", "aint": "ain't",
    # texting shorthand
    "u": "you", "ur": "your", "r": "are", "y": "why", "pls": "please", "plz": "please",
    "thx": "thanks", "thanx": "thanks", "tnx": "thanks", "gr8": "great", "nite": "night",
    "tho": "though", "cos": "because", "coz": "because", "bc": "because", "wnt": "want",
    "wanna": "want", "gonna": "going", "fone": "phone", "ppl": "people", "msg": "message",
    # one word for one thing
    "wi-fi": "wifi", "no-one": "nobody", "noone": "nobody", "e-mail": "email",
    "e-mails": "emails", "call-back": "callback", "ring-back": "callback",
    "no-show": "noshow", "canceled": "cancelled", "canceling": "cancelling",
    "cancelation": "cancellation", "fiber": "fibre",
    # misspellings
    "cancell": "cancel", "cancle": "cancel", "cancl": "cancel",
    "enginer": "engineer", "engeneer": "engineer", "engineeer": "engineer",
    "enginner": "engineer", "engenier": "engineer",
    "internat": "internet", "intenet": "internet", "interent": "internet",
    "internt": "internet", "interet": "internet", "inernet": "internet",
    "broadbnd": "broadband", "braodband": "broadband", "broadand": "broadband",
    "conection": "connection", "connexion": "connection",
    "servise": "service", "sevice": "service", "serivce": "service", "servce": "service",
    "contrct": "contract", "contarct": "contract",
    "provder": "provider", "providor": "provider", "provier": "provider",
    "terible": "terrible", "terrable": "terrible", "horible": "horrible",
    "absolutly": "absolutely", "absolutley": "absolutely", "realy": "really",
    "dissapointed": "disappointed", "disapointed": "disappointed",
    "dissappointed": "disappointed", "disappointd": "disappointed",
    "exellent": "excellent", "excelent": "excellent", "excellant": "excellent",
    "usless": "useless", "useles": "useless", "rubish": "rubbish", "rubbsih": "rubbish",
    "brokn": "broken", "borken": "broken", "droping": "dropping", "dropps": "drops",
    "cuting": "cutting", "waitng": "waiting", "wating": "waiting", "waitin": "waiting",
    "wrking": "working", "workin": "working", "wroking": "working", "chargin": "charging",
    "charing": "charging", "evry": "every", "evrey": "every", "refnd": "refund",
    "grate": "great", "awfull": "awful", "awsome": "awesome", "amazin": "amazing",
    "brillant": "brilliant", "helpfull": "helpful",
    "recomend": "recommend", "reccomend": "recommend", "reccommend": "recommend",
    "definately": "definitely", "seperate": "separate", "unreliabe": "unreliable",
    "discusting": "disgusting", "disgustin": "disgusting", "apalling": "appalling",
    "shockin": "shocking", "ridiculus": "ridiculous", "rediculous": "ridiculous",
    "ombudsmen": "ombudsman", "solicitors": "solicitor",
}

# --- domain terms: (term, valence) -------------------------------------------------

#: VADER scores "no" -1.2 and does not treat it as a negation (NLTK's copy drops
#: the original's special case), so "no complaints" scored negative. The engine
#: adds "no" to the negation words; here it loses its own valence.
_VADER_CORRECTIONS = [
    ("no", 0.0),
    ("joke", -1.5),      # "customer service is a joke"
    ("fire", 0.0),       # mostly the 🔥 emoji, praise as often as not
    ("cancel", -1.2),
    # words VADER rates that are neutral in what customers write to a provider
    ("number", 0.0),     # account and phone numbers
    ("pay", 0.0), ("leave", 0.0), ("please", 0.0), ("i'd like", 0.0), ("would like", 0.0),
    ("interested in", 0.0), ("freeze", -1.6),
]

#: Service failure: connection, speed, billing, visits, contact, digital.
_FAILURE_TERMS = [
    ("outage", -2.0), ("outages", -2.0), ("downtime", -1.5), ("offline", -1.5),
    ("disconnected", -1.8), ("disconnecting", -1.8), ("disconnects", -1.8),
    ("disconnection", -1.8), ("disconnections", -1.8),
    ("crashing", -2.0), ("crashes", -2.0), ("crashed", -2.0),
    ("freezes", -1.6), ("freezing", -1.6), ("froze", -1.6), ("frozen", -1.6),
    ("buffering", -1.6), ("buffers", -1.6), ("laggy", -1.6), ("lagging", -1.6),
    ("lag", -1.5), ("intermittent", -1.6), ("flaky", -1.8), ("unreliable", -2.0),
    ("unusable", -2.5), ("slow", -1.6), ("slower", -1.6), ("sluggish", -1.6),
    ("overcharged", -2.5), ("overcharging", -2.5), ("overbilled", -2.5),
    ("overpriced", -2.0), ("expensive", -1.2), ("extortionate", -2.5),
    ("missold", -2.5), ("misled", -2.2), ("patronising", -2.0), ("patronizing", -2.0),
    ("dismissive", -2.0), ("unhelpful", -2.0), ("clueless", -2.0), ("shambles", -2.5),
    ("rubbish", -2.2), ("shoddy", -2.2), ("cowboys", -1.8), ("ripoff", -2.5),
    ("noshow", -2.5), ("unanswered", -1.8), ("ghosted", -2.0),
    ("glitchy", -1.8), ("glitches", -1.6), ("bugs", -1.2), ("buggy", -1.8),
    ("error", -1.2), ("errors", -1.5), ("faulty", -2.0), ("flickering", -1.2),
    ("delays", -1.5), ("overdue", -1.5), ("cut-off", -2.0),
    # phrases
    ("hung up", -2.3), ("hung up on", -2.5), ("hangs up", -2.3), ("hang up on", -2.3),
    ("put the phone down on", -2.3), ("cut off", -2.0), ("cut me off", -2.2),
    ("cutting me off", -2.2), ("cuts out", -1.8), ("cutting out", -1.8), ("cut out", -1.5),
    ("keeps dropping", -2.0), ("drops out", -1.8), ("dropping out", -1.8),
    ("dropped out", -1.6), ("drop out", -1.6), ("connection drops", -1.8),
    ("keeps crashing", -2.5), ("keeps disconnecting", -2.2), ("keeps freezing", -2.2),
    ("keeps buffering", -2.2), ("keeps rebooting", -2.2), ("keeps restarting", -2.2),
    ("keeps going off", -2.2), ("keeps cutting out", -2.3), ("keeps logging me out", -2.0),
    ("logs me out", -1.6), ("keep going up", -1.6), ("keeps going up", -1.6),
    ("not working", -2.0), ("stopped working", -2.0), ("doesn't work", -2.0),
    ("does not work", -2.0), ("isn't working", -2.0), ("is not working", -2.0),
    ("wasn't working", -1.8), ("won't work", -1.8), ("don't work", -1.8),
    ("no longer works", -2.0), ("barely works", -2.0), ("hardly works", -2.0),
    ("never works", -2.0), ("won't connect", -2.0), ("can't connect", -2.0),
    ("cannot connect", -2.0), ("unable to connect", -2.0), ("can't log in", -1.8),
    ("can't login", -1.8), ("cannot log in", -1.8), ("unable to log in", -1.8),
    ("can't get through", -1.8), ("couldn't get through", -1.8), ("can't use", -1.5),
    ("down again", -2.3), ("is down", -1.8), ("are down", -1.8), ("was down", -1.6),
    ("been down", -1.8), ("went down", -1.8), ("goes down", -1.8), ("going down", -1.5),
    ("goes off", -1.6), ("went off", -1.6), ("goes offline", -1.8), ("{service} down", -2.0),
    ("{service} drops", -1.8), ("{service} keeps dropping", -2.2),
    ("no {service}", -2.2), ("without {service}", -2.2), ("lost {service}", -2.0),
    *[(f"{verb} {det} {{service}}", -2.2) for verb, det in product(
        ["without", "lost"], ["my", "his", "her", "our", "their", "any", "a", "the"])],
    ("halved", -1.5), ("plummeted", -1.8), ("plunged", -1.8),
    ("loss of {service}", -2.0), ("no dial tone", -2.2), ("{duration} without", -2.0),
    ("still no", -1.8), ("still not", -1.5), ("still waiting", -2.0), ("still broken", -2.3),
    ("still nothing", -2.0), ("still down", -2.3), ("still slow", -2.0),
    ("waited ... {duration}", -2.3), ("waiting ... {duration}", -2.0),
    ("been waiting", -1.6), ("waiting since", -1.8), ("waited in all day", -2.0),
    ("waiting for a callback", -1.8), ("{duration} late", -2.0), ("{duration} on hold", -2.0),
    ("on hold for ... {duration}", -2.0), ("{duration} on the phone", -1.8),
    ("{duration} in the queue", -1.8), ("kept on hold", -2.0), ("on hold", -1.5),
    ("promised ... never", -2.3), ("never delivered", -2.3),
    ("never happened", -2.0), ("never appeared", -2.0), ("never received", -2.0),
    ("nobody knows", -1.6), ("nobody seems", -1.5), ("no explanation", -1.8),
    ("no warning", -1.8), ("no updates", -1.8), ("no update", -1.8),
    ("charged twice", -2.5), ("charged me twice", -2.5), ("double charged", -2.5),
    ("charged double", -2.5), ("billed twice", -2.5), ("{number} payments", -1.8),
    ("wrong bill", -2.0), ("bill is wrong", -2.0), ("bill was wrong", -2.0),
    ("wrong amount", -2.0), ("wrong date", -1.6), ("wrong package", -1.8),
    ("billing mistakes", -2.0), ("billing error", -2.0), ("billing errors", -2.0),
    ("price rise", -1.6), ("price rises", -1.6), ("price hike", -2.0),
    ("price increase", -1.6), ("went up", -1.5), ("gone up", -1.5), ("late fee", -1.8),
    ("hidden charges", -2.0), ("hidden fees", -2.0), ("rip off", -2.5), ("ripped off", -2.5),
    ("stop charging", -1.8), ("stop billing", -1.8), ("keep billing", -1.8),
    ("talked over me", -2.0), ("talk over me", -2.0), ("reading a script", -1.6),
    ("read from a script", -1.6), ("lied to me", -2.5), ("no help", -2.0),
    ("a joke", -2.0), ("fed up", -2.3), ("sick of", -2.3), ("had enough", -2.0),
    ("enough is enough", -2.0), ("the excuses", -1.6), ("let down", -2.0),
    ("not good enough", -2.2), ("not impressed", -2.0), ("not happy", -2.2),
    ("not reliable", -2.0), ("not what i was promised", -2.3), ("not acceptable", -2.2),
    ("not fixed", -2.0), ("not sorted", -2.0), ("not resolved", -2.0),
    ("no sign of", -1.8), ("pushed back", -1.6), ("fault came back", -2.0),
    ("problem came back", -2.0), ("issue came back", -2.0), ("left without fixing", -2.3), ("took a day off", -1.5),
    ("for nothing", -1.5), ("different answers", -1.6), ("same fault", -1.6),
    ("same problem", -1.6), ("same issue", -1.6), ("no way to contact", -2.0),
    ("no one takes responsibility", -2.0), ("nobody takes responsibility", -2.0),
    ("takes responsibility", 0.5), ("being looked into", -1.2),
    ("a mess", -1.8), ("is a mess", -2.0), ("nowhere near", -1.8), ("fraction of", -1.5),
    ("lag spikes", -1.8), ("time out", -1.6), ("times out", -1.6),
    ("yet again", -1.8),
    ("for the {ordinal} time", -1.8), ("{ordinal} time", -1.5),
    ("{ordinal} outage", -2.0), ("{ordinal} call", -1.5), ("{ordinal} engineer", -1.5),
    ("{ordinal} month in a row", -2.0), ("in a row", -0.8),
    ("thanks for nothing", -2.5), ("yeah right", -2.0), ("oh great", -1.8),
    ("oh brilliant", -1.8), ("just great", -1.8),
    ("no show", -2.5), ("no callback", -2.0),
    ("why am i paying", -1.8), ("why am i being charged", -2.0), ("why have i been charged", -2.0),
    ("why do i have to", -1.5), ("it's been a {duration}", -1.2), ("it's been {number} {duration}", -1.2),
    ("when it works", -1.5), ("even worse", -2.5), ("down every", -1.8), ("charge twice", -2.5),
    ("charging twice", -2.5), ("paid twice", -2.2), ("taken twice", -2.5), ("took twice", -2.5),
    ("refund", -1.0), ("never again", -2.0), ("done with you", -2.0), ("lost a customer", -1.4),
    ("lost me as a customer", -1.4),
    # what was paid for, promised or quoted against what came
    ("paying for ... getting", -1.8), ("paid for ... getting", -1.8), ("pay for ... get", -1.8),
    ("paying for ... and get", -1.8), ("twice what", -1.6), ("double what", -1.6),
    ("more than i was told", -1.8), ("more than quoted", -1.8), ("higher than quoted", -1.8),
    ("than i was quoted", -1.6), ("was told it would", -1.6), ("told it'd", -1.6),
    ("was promised", -1.2), ("were promised", -1.2), ("dial-up", -1.5), ("dial up speeds", -1.8),
    ("it's been a {duration}", -1.6), ("it's been {number} {duration}", -1.6),
    ("it has been a {duration}", -1.6), ("it has been {number} {duration}", -1.6),
    ("where is my", -1.6), ("where's my", -1.6), ("where are my", -1.6),
    ("sort it out", -1.8), ("sort this out", -1.8), ("please fix", -1.5), ("fix this", -1.2),
    *[(f"{need} {it} {done}", -1.6) for need, it, done in product(
        ["need", "needs", "want", "get", "getting", "trying to get"], ["it", "this", "that"],
        ["fixed", "sorted", "resolved", "repaired", "sorted out"])],
    ("trying to get", -1.5), ("nothing but", 0.0), ("this is how you treat", -2.0),
    ("at best", -1.0), ("patchy", -1.6), ("spotty", -1.6), ("dodgy", -1.6), ("ropey", -1.6),
    ("temperamental", -1.5), ("hit and miss", -1.6), ("hit or miss", -1.6),
    ("turned up late", -1.6), ("arrived late", -1.6), ("showed up late", -1.6), ("rushed", -1.5),
    ("go off", -1.6), ("going off", -1.6), ("cuts in and out", -2.0), ("cutting in and out", -2.0),
    ("working {service}", 1.2), ("customer care", 0.0), ("care team", 0.0),
    ("nobody has been able to", -2.0), ("no one has been able to", -2.0),
    ("not one person", -1.8), ("not a single person", -1.8), ("won't let me", -1.8),
    ("doesn't let me", -1.8), ("wouldn't let me", -1.8),
    # more of what customers call a failure
    ("died", -2.0), ("dies", -2.0), ("dying", -1.8), ("went dead", -2.0), ("gone dead", -2.0),
    ("crawling", -1.6), ("crawl", -1.6), ("snail's pace", -1.8), ("nightmare", -2.5),
    ("farce", -2.2), ("botched", -2.0), ("messed up", -2.0), ("mess up", -1.8),
    ("screwed up", -2.3), ("incorrect", -1.5), ("wrongly", -1.6), ("overcharge", -2.5),
    ("misleading", -2.0), ("not as advertised", -2.0), ("false advertising", -2.5),
    ("nothing works", -2.0), ("nothing is working", -2.0), ("nothing working", -2.0),
    ("locked me out", -2.0), ("locked out", -2.0), ("red light", -1.5), ("light is red", -1.5),
    ("flashing red", -1.5), ("orange light", -1.5), ("light is orange", -1.5),
    ("flashing orange", -1.5), ("on and off", -1.5), ("off and on", -1.5),
    ("comes and goes", -1.5), ("drops off", -1.6), ("dropping off", -1.6),
    ("out of action", -1.8), ("no bars", -1.6), ("fobbed off", -2.0), ("fob me off", -2.0),
    ("brushed off", -1.8), ("runaround", -1.8), ("run around", -1.5), ("getting nowhere", -1.8),
    ("going nowhere", -1.5), ("kept in the dark", -1.8), ("radio silence", -1.8),
    ("heard nothing", -1.8), ("out of pocket", -1.8), ("never did", -1.8),
    ("keep getting told", -1.8), ("keep being told", -1.8), ("told different", -1.5),
    ("different things", -1.2), ("to get through", -1.5), ("just fix it", -1.6),
    ("just sort it", -1.6), ("can someone actually", -1.5),
    *[(f"why {rest}", -1.5) for rest in (
        "is my", "are my", "does my", "has my", "have i", "am i", "do i", "can't you", "cannot you",
        "won't you", "haven't you", "hasn't", "isn't", "doesn't", "don't you", "didn't", "is it",
        "does it", "has it", "are you", "do you keep", "did you", "was i", "can't i", "can i not",
        "is there no", "is nobody", "has nobody", "has no one")],
    ("overheats", -1.8), ("overheating", -1.8), ("switches off", -1.6), ("itself off", -1.8),
    ("reboots itself", -1.8), ("restarts itself", -1.8), ("a lie", -2.2), ("lies", -2.0),
    ("half the speed", -1.8), ("half of what", -1.8), ("only get half", -1.8),
    ("took my money", -2.0), ("take my money", -1.8), ("gave me nothing", -2.0),
    ("you owe me", -1.8), ("doesn't make sense", -1.8), ("doesn't make any sense", -1.8),
    ("makes no sense", -1.8), ("i give up", -2.0), ("gave up", -1.8),
    ("can't get hold of", -1.8), ("couldn't get hold of", -1.8), ("cannot get hold of", -1.8),
    ("closed on me", -2.0), ("ended the chat", -1.8), ("gone downhill", -2.0),
    ("going downhill", -2.0), ("no clue", -1.8), ("have a clue", 1.2), ("fit for purpose", 1.5),
    ("not fit for purpose", -2.5),
    *[(f"no {thing}", -2.0) for thing in (
        "response", "responses", "reply", "replies", "answer", "answers", "call back", "refund",
        "compensation", "explanation", "apology", "acknowledgement", "communication",
        "follow up", "follow-up", "confirmation", "resolution", "solution", "engineer", "contact")],
    ("abrupt", -1.5), ("unwatchable", -2.2), ("unplayable", -2.2), ("unreachable", -1.6),
    ("restarting", -1.6), ("rebooting", -1.6), ("anything but", -1.5), ("no idea", -1.5),
    ("know what they're doing", 1.5), ("know what they are doing", 1.5),
    ("my money back", -1.8), ("money back", -1.5), ("got charged", -1.5),
    # recurring trouble: "keeps pixelating", "kept dropping"
    ("keeps {ing}", -1.6), ("kept {ing}", -1.4), ("keep {ing}", -1.4),
    ("keeps getting better", 2.0), ("keep getting better", 2.0), ("keeps improving", 1.8),
    ("keeps getting faster", 2.0), ("keep up the good work", 2.5), ("keeps working", 1.0),
    # a promise contradicted, in a word: "He didn't.", "It isn't."
    *[(f"{aux} {{end}}", -1.6) for aux in (
        "didn't", "did not", "isn't", "is not", "hasn't", "has not", "haven't", "have not",
        "wasn't", "doesn't", "does not", "won't", "weren't", "aren't", "never did", "still hasn't",
        "still haven't", "still isn't", "still doesn't")],
    ("still haven't", -1.6), ("still hasn't", -1.6), ("still can't", -1.8), ("still cannot", -1.8),
    ("still isn't", -1.8), ("still doesn't", -1.8), ("still don't", -1.5), ("still won't", -1.8),
    *[(f"{neg} {action}", -1.8) for neg, action in product(
        ["can't", "cannot", "couldn't", "unable to", "still can't"],
        ["log in", "log into", "login", "sign in", "sign into", "access", "get into", "get online",
         "get on", "get a signal", "stream", "make calls", "hear"])],
    ("taking this further", -1.8), ("take this further", -1.8), ("take it further", -1.8),
    ("resets itself", -1.8), ("turns itself off", -1.8),
    ("going on for", -1.6), ("been going on", -1.6),
    ("should not have to", -1.8), ("shouldn't have to", -1.8),
    *[(f"without {doing}", -1.8) for doing in (
        "fixing", "resolving", "telling", "warning", "asking", "notice", "notifying", "explanation")],
    ("halves", -1.5), ("impossible", -1.5), ("disgraceful", -2.5), ("throttle", -1.8),
    ("throttled", -1.8), ("throttling", -1.8), ("flashes red", -1.5), ("flashes orange", -1.5),
    ("full price for", -1.2), ("way to treat", -1.5), ("how you treat", -1.5),
    # idioms VADER reads backwards
    ("can't believe", 0.0), ("cannot believe", 0.0), ("couldn't believe", 0.0),
    ("never been better", 2.5), ("never better", 2.0), ("couldn't be better", 2.5),
    ("could not be better", 2.5), ("can't complain", 1.5), ("cannot complain", 1.5),
    ("couldn't be happier", 3.0), ("could not be happier", 3.0), ("no complaints at all", 2.5),
    # threats of escalation read as negative, and so as complaints too
    ("ombudsman", -1.8), ("regulator", -1.5), ("ofcom", -1.5), ("solicitor", -1.8),
    ("lawyer", -1.8), ("legal action", -2.2), ("sue", -2.0), ("suing", -2.0),
    ("small claims", -1.8), ("trading standards", -1.8), ("citizens advice", -1.5),
    ("discrimination", -2.5), ("discriminatory", -2.5), ("discriminated", -2.5),
    ("data breach", -2.5), ("report you", -2.0), ("reporting you", -2.0),
    ("formal complaint", -2.0), ("deadlock letter", -1.8),
]

#: Counts of contact and the like: the customer's effort, and a complaint.
_EFFORT_TERMS = [
    ("{contact} ... times", -1.6), ("{number} calls", -1.6), ("{number} emails", -1.6),
    ("{number} chats", -1.6), ("{number} different", -1.6), ("so many times", -1.6),
    ("lost count", -1.6), ("countless times", -1.6), ("multiple times", -1.2),
    ("explain ... again", -1.6), ("explaining ... again", -1.6), ("explained ... again", -1.6),
    ("repeat myself", -1.6), ("repeating myself", -1.6), ("repeat my", -1.2),
    ("same story", -1.4), ("different story", -1.4), ("back and forth", -1.6),
    ("round in circles", -1.8), ("over and over", -1.6), ("again and again", -1.6),
    ("pillar to post", -2.0), ("passed around", -2.0), ("passed from", -1.6),
    ("transferred", -1.2), ("transferred again", -1.8), ("{number} departments", -1.8),
    ("chase", -1.2), ("chasing", -1.4), ("chased", -1.4), ("keep having to", -1.8),
    ("every time i call", -1.0), ("every time i phone", -1.0), ("every time i ring", -1.0),
    ("each time i call", -1.0), ("each time i phone", -1.0), ("each time i ring", -1.0),
    ("spent ... {duration}", -1.6), ("same troubleshooting", -1.4),
    ("{ordinal} call", -1.5), ("{ordinal} time", -1.5), ("for the {ordinal} time", -1.8),
]

#: The customer had to act where the company should have.
_HAD_TO = ["had to", "have to", "having to", "keep having to", "needed to"]
_EFFORT_VERBS = [
    "call", "ring", "phone", "chase", "explain", "repeat", "email", "go", "send",
    "escalate", "contact", "complain", "call back", "keep calling", "ring back",
    "reset", "restart", "reboot", "unplug",
]

#: An action the customer was owed, and the ways of saying it did not happen.
#: (base form, past tense, past participle, third person)
_EXPECTED_ACTIONS = [
    ("show up", "showed up", "shown up", "shows up"), ("show", "showed", "shown", "shows"),
    ("turn up", "turned up", "turned up", "turns up"), ("come", "came", "come", "comes"),
    ("arrive", "arrived", "arrived", "arrives"),
    ("call back", "called back", "called back", "calls back"),
    ("call me back", "called me back", "called me back", "calls me back"),
    ("ring back", "rang back", "rung back", "rings back"),
    ("ring me back", "rang me back", "rung me back", "rings me back"),
    ("get back to me", "got back to me", "got back to me", "gets back to me"),
    ("reply", "replied", "replied", "replies"), ("respond", "responded", "responded", "responds"),
    ("answer", "answered", "answered", "answers"), ("pick up", "picked up", "picked up", "picks up"),
    ("happen", "happened", "happened", "happens"), ("listen", "listened", "listened", "listens"),
    ("fix it", "fixed it", "fixed it", "fixes it"), ("work", "worked", "worked", "works"),
    ("hear back", "heard back", "heard back", "hears back"),
    ("deliver", "delivered", "delivered", "delivers"), ("call", "called", "called", "calls"),
    ("contact me", "contacted me", "contacted me", "contacts me"),
    ("update me", "updated me", "updated me", "updates me"),
    ("let me know", "let me know", "let me know", "lets me know"),
    ("help", "helped", "helped", "helps"), ("bother", "bothered", "bothered", "bothers"),
    ("reach", "reached", "reached", "reaches"), ("fix", "fixed", "fixed", "fixes"),
    ("refund", "refunded", "refunded", "refunds"), ("refund me", "refunded me", "refunded me", "refunds me"),
    ("send", "sent", "sent", "sends"), ("install", "installed", "installed", "installs"),
    ("connect", "connected", "connected", "connects"), ("resolve", "resolved", "resolved", "resolves"),
    ("sort it", "sorted it", "sorted it", "sorts it"), ("credit", "credited", "credited", "credits"),
    ("load", "loaded", "loaded", "loads"), ("open", "opened", "opened", "opens"),
    ("turn on", "turned on", "turned on", "turns on"), ("start", "started", "started", "starts"),
    ("materialise", "materialised", "materialised", "materialises"),
    ("explain", "explained", "explained", "explains"),
]
_NOT_BASE = ["didn't", "did not", "don't", "do not", "doesn't", "does not", "won't", "can't",
             "couldn't", "wouldn't", "not", "nobody could", "no one could", "nobody can", "no one can",
             "nobody will", "no one will"]
_EVER = ["", "{adverb} "]
_NOT_PAST = ["never", "nobody", "no one"]
_NOT_PARTICIPLE = ["hasn't", "haven't", "has not", "have not", "has never", "have never",
                   "hadn't", "still hasn't", "still haven't", "yet to be", "never been",
                   "nobody has", "no one has", "nobody's", "nobody had", "no one had"]


def _expected_action_failures() -> list[tuple[str, float]]:
    terms = []
    for base, past, participle, third in _EXPECTED_ACTIONS:
        # "can you actually answer", "will anyone actually call back": it has not happened
        terms.append((f"actually {base}", -1.5))
        terms += [(f"{neg} {ever}{base}", -2.3) for neg, ever in product(_NOT_BASE, _EVER)]
        forms = {past, participle, third}
        terms += [(f"{neg} {ever}{form}", -2.3)
                  for neg, ever, form in product(_NOT_PAST, _EVER, sorted(forms | {base}))]
        terms += [(f"{neg} {participle}", -2.3) for neg in _NOT_PARTICIPLE]
        # "no one from your company has turned up"
        terms += [(f"{neg} ... {aux} {participle}", -2.3)
                  for neg, aux in product(["nobody", "no one"], ["has", "have", "had"])]
    return terms


#: Praise and resolution. Positive CX words VADER lacks, and phrases whose
#: words VADER would misread ("no complaints", "can't fault").
_PRAISE_TERMS = [
    ("fast", 1.2), ("faster", 1.2), ("quick", 1.2), ("quickly", 1.2), ("speedy", 1.5),
    ("reliable", 1.8), ("polite", 1.8), ("patient", 1.5), ("knowledgeable", 1.8),
    ("professional", 1.5), ("smooth", 1.5), ("seamless", 2.0), ("efficient", 1.8),
    ("prompt", 1.2), ("promptly", 1.2), ("fixed", 1.2), ("sorted", 1.2), ("resolved", 1.2),
    ("solved", 1.2), ("restored", 1.2), ("tidied", 1.0), ("recommended", 1.5),
    ("no complaints", 2.2), ("no problems", 2.0), ("no problem", 1.5), ("no issues", 2.0),
    ("no issue", 1.5), ("no hassle", 2.0), ("no fuss", 1.8), ("hassle free", 2.0),
    ("hassle-free", 2.0), ("no downtime", 1.8), ("zero downtime", 2.0), ("no drama", 1.5),
    ("can't fault", 2.5), ("cannot fault", 2.5), ("couldn't fault", 2.5),
    ("couldn't ask for better", 2.5), ("could not ask for better", 2.5),
    ("rock solid", 2.5), ("top notch", 2.5), ("spot on", 2.0), ("a star", 2.0),
    ("above and beyond", 2.8), ("first time", 0.8), ("straight away", 1.0),
    ("in minutes", 1.0), ("in no time", 1.5), ("up and running", 1.5),
    ("well done", 2.0), ("5 stars", 2.5), ("five stars", 2.5), ("10 10", 2.5),
    ("thank u", 1.5), ("thank you", 1.5), ("best decision", 2.5), ("better than", 1.2),
    ("worth it", 1.8), ("value for money", 1.5), ("good value", 1.8),
    ("{number} times faster", 1.5), ("{number} times better", 1.5),
    # emoji, as their descriptions read
    ("thumbs up", 2.0), ("thumbs down", -2.2), ("rolling eyes", -1.6), ("pile of poo", -2.5),
    ("facepalming", -1.8), ("skull", -1.2), ("steam from nose", -2.2), ("pouting", -2.0),
    ("unamused", -1.6), ("raising hands", 1.8), ("clapping hands", 2.0), ("glowing star", 2.0),
    ("party popper", 2.0), ("symbols on mouth", -2.5), ("middle finger", -2.5),
    ("broken heart", -2.5), ("hourglass", -0.5), ("rocket", 1.0), ("persevering", -1.2),
]

#: Specific phrases that carry no sentiment, so that a shorter phrase inside
#: them does not fire: the longest phrase at a position wins.
_NEUTRAL_TERMS = [
    ("cancel the engineer", 0.0), ("cancel the appointment", 0.0),
    ("cancel my appointment", 0.0), ("cancel the engineer appointment", 0.0),
    ("cancel my paper bill", 0.0), ("cancel the visit", 0.0), ("cancel my order", 0.0),
    ("switch to paperless", 0.0), ("switch to annual", 0.0), ("switch to the", 0.0),
    ("moving to a new", 0.0), ("move to a new", 0.0), ("leave a review", 0.0),
    ("leave the router", 0.0), ("leaving the router", 0.0), ("transfer the service", 0.0),
    ("first time buyer", 0.0), ("no need", 0.5), ("last time", 0.0), ("on time", 1.0),
    ("switched from", 0.5), ("switch from", 0.5),
]

DOMAIN_TERMS: list[tuple[str, float]] = [
    *_VADER_CORRECTIONS,
    *_FAILURE_TERMS,
    *_EFFORT_TERMS,
    *[(f"{had} {verb}", -1.5) for had, verb in product(_HAD_TO, _EFFORT_VERBS)],
    *_expected_action_failures(),
    *_PRAISE_TERMS,
    *_NEUTRAL_TERMS,
]

# --- intent phrases: (intent, phrase, negatable) -------------------------------------

_CHURN_VERBS = ["cancel", "leave", "terminate", "quit", "switch provider",
                "switch providers", "go elsewhere", "move provider", "port my number"]
_CHURN_ING = ["cancelling", "leaving", "terminating", "quitting", "ending", "closing",
              "switching", "moving provider", "going elsewhere", "porting my number"]
_INTEND_TO = ["want to", "wants to", "needs to", "going to", "need to", "would like to", "like to", "planning to",
              "plan to", "intend to", "trying to", "try to", "will", "i'll", "we'll", "about to",
              "ready to", "have to", "decided to", "i will", "we will", "may", "might"]
_CONSIDER = ["thinking of", "thinking about", "considering", "looking at", "looking into",
             "will be", "i'm", "we're", "i am", "we are"]
_TO_PROVIDER = ["switch to", "switching to", "move to", "moving to", "go to", "going to",
                "off to", "leave for", "leaving for", "join", "joining", "signed up with",
                "sign up with", "signing up with", "go with", "going with", "port to",
                "porting to", "move over to", "moving over to"]

_CHURN_PHRASES = [
    *[f"{intend} {verb}" for intend, verb in product(_INTEND_TO, _CHURN_VERBS)],
    *[f"{consider} {verb}" for consider, verb in product(_CONSIDER, _CHURN_ING)],
    *[f"{move} {{provider}}" for move in _TO_PROVIDER],
    "cancel ... {account}", "cancelling ... {account}", "terminate ... {account}",
    "terminating ... {account}", "close ... {account}", "closing ... {account}",
    *[f"{verb} {det} {{account}}" for verb, det in product(
        ["end", "ending", "leave", "leaving", "exit", "exiting"], ["my", "the", "our", "this"])],
    "cancel it", "cancel everything", "cancel now", "cancel {end}", "cancellation",
    "cancellation code", "i'm cancelling", "we're cancelling", "i'm leaving", "we're leaving",
    "i'm off", "leaving you", "leave you", "switching {end}", "leaving {end}",
    "switch provider", "switch providers", "switching provider", "switching providers",
    "switch supplier", "switching supplier", "switch away", "switching away",
    "another provider", "other providers", "new provider", "different provider",
    "another company", "another network", "go elsewhere", "going elsewhere",
    "business elsewhere", "look elsewhere", "looking elsewhere", "cheaper elsewhere",
    "better deal elsewhere", "{provider} offered", "{provider} is cheaper",
    "{provider} are cheaper", "port my number", "porting my number", "port out",
    "porting out", "number out", "pac code", "pac", "stac code", "stac", "migration code",
    "lost a customer", "lost me as a customer", "lost my custom", "lost my business",
    "want out", "let me out", "out of this contract", "out of my contract", "out of the contract",
    "leave early", "early termination", "termination fee", "exit fee",
    "done with you", "finished with you", "had enough of you", "reason to stay",
    "never again", "never use you again", "never using you again",
]
#: Said with the negation inside: "won't be renewing" is the churn, not its negation.
_CHURN_NEGATIVE = [
    "won't be renewing", "will not be renewing", "not be renewing", "not renewing",
    "won't renew", "will not renew", "don't renew", "do not renew", "not renew",
    "won't be staying", "will not be staying", "not staying", "won't stay", "will not stay",
]

_COMPLIANCE_PHRASES = [
    "ombudsman", "ombudsman services", "regulator", "ofcom", "solicitor", "lawyer", "lawyers",
    "legal action", "legal advice", "legal", "sue", "suing", "sued", "court", "small claims",
    "trading standards", "citizens advice", "consumer rights", "discrimination",
    "discriminatory", "discriminated", "discriminate", "data breach", "breach",
    "gdpr", "data protection", "personal information", "personal data", "personal details",
    "bank details", "gave my details", "shared my details", "passed my details",
    "shared my address", "gave my address", "disclosed", "leaked", "without consent",
    "without my consent", "without my permission", "accessed my account", "passing security",
    "vulnerable", "vulnerability", "disabled", "disability", "blind", "deaf", "dementia",
    "carer", "elderly", "care alarm", "telecare", "life support", "medical", "hospital",
    "surgery", "terminally ill", "cancer", "mental health", "harassment", "harassing",
    "harass", "threatening", "bailiffs", "debt collector", "debt collectors", "the press",
    "my mp", "watchdog", "deadlock letter", "deadlock", "formal complaint", "pressured",
    "pressure selling", "mis sold", "mis-sold", "missold", "report you", "reporting you",
]

_EFFORT_PHRASES = [
    *[phrase for phrase, _ in _EFFORT_TERMS],
    *[f"{had} {verb}" for had, verb in product(_HAD_TO, _EFFORT_VERBS)],
    "{duration} on hold", "on hold for ... {duration}", "kept on hold", "on hold",
    "{duration} on the phone", "{duration} in the queue", "in the queue", "in a queue",
    "different people", "get through to anyone",
]

_PRAISE_PHRASES = [
    "thank you", "thanks", "thank u", "thank", "cheers", "great", "excellent", "brilliant",
    "superb", "outstanding", "fantastic", "amazing", "awesome", "helpful", "friendly",
    "polite", "professional", "patient", "lovely", "knowledgeable", "well done", "recommend",
    "love", "loved", "perfect", "perfectly", "happy", "pleased", "impressed", "good",
    "reliable", "fast", "quick", "quickly", "smooth", "painless", "best", "a star",
    "top notch", "rock solid", "satisfied", "spot on", "10 10", "5 stars", "five stars",
    "above and beyond", "no complaints", "no problems", "no issues", "no hassle",
    "can't fault", "cannot fault", "couldn't fault", "couldn't ask for better",
    "better than", "sorted", "fixed", "resolved", "solved", "star", "thumbs up",
    "raising hands", "clapping hands", "glowing star", "heart", "smiling",
    "straight away", "zero downtime", "no downtime", "worth it", "value for money",
    "efficient", "seamless", "speedy", "wonderful", "pleasure", "easy", "clear", "helped",
    "faster", "cheaper", "better", "simple", "improved", "glad", "delighted", "grateful",
    "appreciate", "appreciated", "nice", "super", "exceptional", "kind", "best decision",
]

#: Words before a resolution word that make it a wish, not a fact
#: ("I need this fixed", "trying to get it sorted", "will be resolved").
RESOLUTION_WISHES = "get getting be need needs want wants will should must please until unless once".split()

#: Words saying a problem was dealt with. A complaint phrase with one of these
#: near it in the same clause ("the outage was fixed quickly") is praise of
#: the fix, not a complaint; "not fixed" is no resolution.
#: Done, not asked for: "fix", "sort" are mostly requests ("can you fix it").
RESOLUTION_WORDS = "fixed sorted resolved solved restored repaired handled sorting".split()

INTENT_PHRASES: list[tuple[str, str, bool]] = [
    *[("churn_risk", phrase, True) for phrase in _CHURN_PHRASES],
    *[("churn_risk", phrase, False) for phrase in _CHURN_NEGATIVE],
    *[("compliance_risk", phrase, False) for phrase in _COMPLIANCE_PHRASES],
    *[("high_effort", phrase, True) for phrase in _EFFORT_PHRASES],
    *[("praise", phrase, True) for phrase in _PRAISE_PHRASES],
]
