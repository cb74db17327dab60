"""The generated corpus's articles: article `i` of seed `s`, a pure function of `(s, i)`, with
its planted fact (`qa.evaluation.gencorpus` writes them and their questions).

Sentences are composed from templates and small vocabularies by `random.Random(f"{s}:{i}")`,
in the seed corpus's `.txt` convention.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SHARD = 1000
"""Articles per sub-folder."""


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(sep))


_SYLLABLES = _words(
    "ka lo mir ve dan tor el sa ri bel gor an fen lis ko rav ul ten mar sel "
    "dor vin ha pel nor ist ber quen zal tam ro vek lun gar esh pri mol cad ser"
)
_CITIES = _words(
    "Orvane Castelmar Dunreach Velmora Asketil Brennholt Sarovin Kelthorpe Marisca Tolvaig "
    "Quenport Ravensby Oldmere Lusavia Harrowgate Petravik Selwyn Ambrosa Northwick Zaleska "
    "Fennick Corvallo Istrand Belgrove Montaure Drossel Yarrowby Kestova Valdoria Umberley"
)
_FIRST = _words(
    "Anna Boris Clara Dmitri Elena Farid Greta Hamid Irene Jonas Kamala Lukas Mirela Nadia "
    "Oskar Priya Rafael Sofia Tomas Ursula Viktor Wanda Yusuf Zara Leyla Marco Ines Pavel "
    "Amira Stefan Hana Emil Lucia Omar Teodor Vera"
)
_LAST = _words(
    "Vostani Keller Andrade Mirov Halvorsen Petrescu Okafor Lindqvist Duarte Novak Sorensen "
    "Marchetti Kowalski Brandt Ferreira Yilmaz Castell Moreau Ivanova Hashemi Aaltonen Rossi "
    "Varga Nakamura Delacroix Mbeki Haddad Orlov Santos Quist"
)
_PUBLISHERS = _words(
    "Northgate Herald | Baltic Wire | Meridian Post | Harbour Times | Valley Courier | "
    "Capital Ledger | Coastal Daily | Highland Observer | Continental Press | "
    "Riverside Gazette | Evening Standard Review | Metro Dispatch",
    "|",
)
_ORGS = _words(
    "city council | port authority | transport ministry | water board | regional assembly | "
    "planning commission | energy agency | chamber of commerce | finance committee",
    "|",
)
_KINDS = _words(
    "bridge | tunnel | rail line | wind farm | hospital | ring road | dam | tram line | "
    "airport terminal | desalination plant | container terminal | solar park",
    "|",
)
_ROLES = _words("chief engineer|project director|site manager|lead architect|chief auditor", "|")
_COMPANIES = _words(
    "Stellan Works | Orbis Construction | Hale & Marrow | Tessaract Civil | Norden Build | "
    "Calder Group | Ironvale Partners | Quayside Engineering | Brightlane Holdings",
    "|",
)
_UNITS = _words("vehicles|passengers|containers|tonnes of freight|patients", "|")
_CURRENCIES = _words("euros dollars crowns francs")
_MONTHS = _words(
    "January February March April May June July August September October November December"
)
_TOPICS = _words(
    "housing costs | the new budget | school repairs | water prices | late trains | "
    "the harbour expansion | a shortage of nurses | tax relief for farmers | air quality | "
    "the pension reform | flood defences | rising rents | the fishing quota",
    "|",
)
_WEEKDAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday")

# Filler: {P} is a project named in another article, a distractor for that article's question.
_FILLER = (
    "{person}, the {role} of {city}, said the new {kind} would open in {month} {year}.",
    "Officials in {city} expect {n} {unit} to use the {kind} each day once it opens.",
    "The {org} of {city} met on {weekday} to discuss {topic}.",
    "Critics argue that the {P} has already cost far more than its planners promised.",
    "Talks between {city} and {city2} on {topic} resumed after a {small}-month pause.",
    "The {org} of {city} approved a budget of {n} million {currency} for a new {kind}.",
    "Residents of {city} still argue about the {P}, which opponents call a vanity project.",
    "{person} told reporters that {topic} would dominate the next session of the {org}.",
    "A survey of {n} households in {city} found that most worry about {topic}.",
    "Work on a {kind} outside {city2} was halted in {month} after heavy rain.",
    "The {P} was mentioned again in the annual report of the {org} of {city2}.",
    "Shares of {company} rose {small} percent after the firm won a contract in {city}.",
    "{person}, a spokesperson for the {org}, declined to comment on {topic}.",
    "In {year} the {org} of {city2} spent {n} million {currency} on {topic}.",
    "Engineers from {company} inspected the {P} on {weekday} and found no serious faults.",
    "The mayor of {city} promised that {topic} would be settled before the end of {year}.",
    "Traffic around {city} has grown by {small} percent since the {kind} opened.",
    "{person} has led the {org} of {city} since {year}.",
    "Opposition members in {city2} demanded an inquiry into {topic}.",
    "Protesters gathered outside the offices of the {org} in {city} on {weekday}.",
    "According to figures published in {month}, {n} people moved to {city} last year.",
    "The {kind} near {city2} will employ about {n} workers, officials said.",
    "Neither {city} nor {city2} has published a timetable for the {P}.",
    "Analysts at {company} expect {topic} to weigh on growth in {year}.",
)


@dataclass(frozen=True)
class Fact:
    """What was planted in one article: its sentence, and a question it answers."""

    sentence: str
    question: str
    answer: str


def _planted(r: random.Random, project: str, city: str, city2: str) -> Fact:
    org, role = r.choice(_ORGS), r.choice(_ROLES)
    person = f"{r.choice(_FIRST)} {r.choice(_LAST)}"
    n = r.randint(120, 9800)
    kind = r.randrange(7)
    if kind == 0:
        currency = r.choice(_CURRENCIES)
        return Fact(
            f"The {org} of {city} approved a budget of {n:,} million {currency} for the {project}.",
            f"How much money did the {org} of {city} set aside for the {project}?",
            f"{n:,} million {currency}",
        )
    if kind == 1:
        km = r.randint(3, 240)
        return Fact(
            f"When finished, the {project} will run {km} kilometres between {city} and {city2}.",
            f"How long will the {project} be?",
            f"{km} kilometres",
        )
    if kind == 2:
        return Fact(
            f"{person} has been appointed {role} of the {project}, the {org} of {city} announced.",
            f"Who was named {role} of the {project}?",
            person,
        )
    if kind == 3:
        return Fact(
            f"The {project} will employ {n:,} workers at the height of construction.",
            f"How many people will work on building the {project}?",
            f"{n:,} workers",
        )
    if kind == 4:
        when = f"{r.choice(_MONTHS)} {r.randint(2026, 2040)}"
        return Fact(
            f"Work on the {project} near {city} is scheduled to finish in {when}.",
            f"When is the {project} expected to be completed?",
            when,
        )
    if kind == 5:
        company = r.choice(_COMPANIES)
        return Fact(
            f"The contract to build the {project} went to {company}, a firm based in {city2}.",
            f"Which company won the contract for the {project}?",
            company,
        )
    unit = r.choice(_UNITS)
    return Fact(
        f"The {project} is designed to handle {n:,} {unit} a day.",
        f"How many {unit} a day can the {project} handle?",
        f"{n:,} {unit}",
    )


def project_name(i: int, seed: int = 0) -> str:
    """The invented project of article `i`, e.g. "Kelvaro bridge": the names are all distinct."""
    space = len(_SYLLABLES) ** 3
    # A bijection of 0..space-1 (multiplier coprime to space), so neighbours sound different;
    # past `space` articles a fourth syllable keeps names distinct.
    x = (i % space * 7919 + 104729 * (seed + 1)) % space
    digits = [x // len(_SYLLABLES) ** k % len(_SYLLABLES) for k in range(3)]
    digits += [i // space - 1] if i >= space else []
    name = "".join(_SYLLABLES[d % len(_SYLLABLES)] for d in digits).capitalize()
    return f"{name} {_KINDS[i * 31 % len(_KINDS)]}"


def file_name(i: int) -> str:
    """`003/003141.txt`: article `i` in its shard."""
    return f"{i // SHARD:03d}/{i:06d}.txt"


def article(i: int, seed: int = 0) -> tuple[str, Fact]:
    """The text of article `i` and the fact planted in it."""
    r = random.Random(f"{seed}:{i}")
    project = project_name(i, seed)
    city, city2 = r.sample(_CITIES, 2)
    fact = _planted(r, project, city, city2)
    # Projects of nearby articles (named in their own facts) appear here in passing.
    others = [project_name(max(0, i + d), seed) for d in (-3, -2, -1, 1, 2, 3) if i + d >= 0]

    def sentence() -> str:
        return r.choice(_FILLER).format(
            person=f"{r.choice(_FIRST)} {r.choice(_LAST)}",
            role=r.choice(_ROLES),
            city=r.choice(_CITIES),
            city2=r.choice(_CITIES),
            kind=r.choice(_KINDS),
            org=r.choice(_ORGS),
            P=r.choice(others),
            n=f"{r.randint(100, 9900):,}",
            small=r.randint(2, 19),
            unit=r.choice(_UNITS),
            currency=r.choice(_CURRENCIES),
            month=r.choice(_MONTHS),
            weekday=r.choice(_WEEKDAYS),
            year=r.randint(2015, 2030),
            topic=r.choice(_TOPICS),
            company=r.choice(_COMPANIES),
        )

    # Mostly short and medium articles, some long ones: 1 to ~40 paragraphs.
    size = r.random()
    paragraphs = (
        r.randint(1, 3) if size < 0.3 else r.randint(4, 9) if size < 0.85 else (r.randint(10, 40))
    )
    body = [[sentence() for _ in range(r.randint(2, 5))] for _ in range(paragraphs)]
    lead = f"The {r.choice(_ORGS)} of {city} is under pressure over the {project}."
    body[0].insert(0, lead)
    where = body[r.randrange(paragraphs)]
    where.insert(r.randint(1, len(where)), fact.sentence)
    date = f"{r.randint(2015, 2024)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
    header = f" date {date} By {r.choice(_PUBLISHERS)}\n\nBy {r.choice(_FIRST)} {r.choice(_LAST)}"
    text = "\n\n".join([header, *(" ".join(p) for p in body)]) + "\n"
    return text, fact
