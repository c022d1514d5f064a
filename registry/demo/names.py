"""Name tables for the synthetic population: Danish-looking, with a realistic frequency skew.

Weights are relative frequencies. Family-name weights follow Danmarks Statistik's
published counts roughly (in thousands of bearers, rounded); given names are listed by
popularity and weighted by rank (Zipf), so a few names are very common and most are rare.
"""

from __future__ import annotations

from collections.abc import Sequence

Weighted = tuple[tuple[str, float], ...]


def zipf(names: Sequence[str], exponent: float = 1.0) -> Weighted:
    """Weight names listed most popular first by 1 / rank**exponent."""
    return tuple((name, 1.0 / (rank + 1) ** exponent) for rank, name in enumerate(names))


FEMALE_GIVEN: Weighted = zipf(
    (
        "Anne", "Kirsten", "Mette", "Hanne", "Anna", "Helle", "Susanne", "Lene", "Maria",
        "Marianne", "Lone", "Camilla", "Pia", "Louise", "Charlotte", "Inge", "Bente", "Tina",
        "Gitte", "Karen", "Jette", "Ida", "Emma", "Sofie", "Julie", "Birgitte", "Else",
        "Lotte", "Ulla", "Dorthe", "Rikke", "Heidi", "Annette", "Karina", "Tove", "Line",
        "Maja", "Freja", "Sara", "Signe", "Cecilie", "Laura", "Mathilde", "Caroline",
        "Katrine", "Eva", "Grethe", "Ingrid", "Britta", "Ellen", "Ruth", "Birthe", "Lis",
        "Connie", "Vibeke", "Bodil", "Jytte", "Lærke", "Astrid", "Agnete", "Dagmar", "Ebba",
        "Gudrun", "Sørine", "Åse", "Bjørg", "Søs", "Ragnhild", "Solveig", "Nanna", "Klara",
    ),
    0.9,
)  # fmt: skip

MALE_GIVEN: Weighted = zipf(
    (
        "Peter", "Jens", "Lars", "Michael", "Henrik", "Thomas", "Søren", "Jan", "Niels",
        "Christian", "Martin", "Jørgen", "Hans", "Anders", "Morten", "Jesper", "Mads", "Ole",
        "Rasmus", "Per", "Kim", "Erik", "Mikkel", "Frederik", "Steen", "Poul", "Torben", "Bo",
        "Brian", "Carsten", "Kenneth", "Allan", "Kasper", "Jakob", "Claus", "Bent", "Flemming",
        "Johannes", "Knud", "Svend", "Preben", "John", "Finn", "Leif", "Kurt", "Jørn", "Bjørn",
        "Oliver", "William", "Noah", "Lucas", "Carl", "Emil", "Magnus", "Victor", "Oscar",
        "Malthe", "Aksel", "Kåre", "Åge", "Bjarke", "Asbjørn", "Holger", "Ejnar", "Mogens",
        "Palle", "Bøje", "Gorm", "Tage", "Valdemar",
    ),
    0.9,
)  # fmt: skip

# Second given names ("mellemnavne" used as given names), joined with a space.
FEMALE_SECOND: tuple[str, ...] = (
    "Marie", "Louise", "Sofie", "Margrethe", "Kristine", "Elisabeth", "Katrine", "Helene",
)  # fmt: skip
MALE_SECOND: tuple[str, ...] = (
    "Peter", "Christian", "Erik", "Emil", "Kristian", "Henrik", "Jørgen", "Aage", "Ole",
)  # fmt: skip

# Hyphenated given names.
FEMALE_HYPHENATED: tuple[str, ...] = (
    "Anne-Mette", "Lise-Lotte", "Anne-Sofie", "Marie-Louise", "Anne-Grethe", "Mette-Marie",
)  # fmt: skip
MALE_HYPHENATED: tuple[str, ...] = (
    "Karl-Johan", "Hans-Henrik", "Jens-Ole", "Per-Åge", "Niels-Christian", "Carl-Emil",
)  # fmt: skip

FAMILY: Weighted = (
    ("Nielsen", 236), ("Jensen", 235), ("Hansen", 195), ("Pedersen", 151), ("Andersen", 151),
    ("Christensen", 112), ("Larsen", 108), ("Sørensen", 104), ("Rasmussen", 89),
    ("Jørgensen", 85), ("Petersen", 67), ("Madsen", 61), ("Kristensen", 60), ("Olsen", 49),
    ("Thomsen", 37), ("Christiansen", 34), ("Poulsen", 30), ("Johansen", 29), ("Møller", 28),
    ("Mortensen", 26), ("Knudsen", 25), ("Jakobsen", 24), ("Jacobsen", 22), ("Mikkelsen", 21),
    ("Olesen", 21), ("Frederiksen", 20), ("Laursen", 19), ("Henriksen", 19), ("Lund", 18),
    ("Schmidt", 17), ("Eriksen", 16), ("Holm", 16), ("Kristiansen", 15), ("Clausen", 14),
    ("Simonsen", 14), ("Svendsen", 13), ("Andreasen", 13), ("Iversen", 13), ("Jeppesen", 12),
    ("Mogensen", 12), ("Jespersen", 11), ("Nissen", 11), ("Lauridsen", 11), ("Frandsen", 11),
    ("Østergaard", 11), ("Jepsen", 10), ("Kjær", 10), ("Carlsen", 10), ("Vestergaard", 10),
    ("Jessen", 9), ("Nørgaard", 9), ("Dahl", 9), ("Christoffersen", 9), ("Skov", 8),
    ("Søndergaard", 8), ("Bertelsen", 8), ("Bruun", 8), ("Lassen", 8), ("Bach", 8),
    ("Gregersen", 8), ("Friis", 7), ("Johnsen", 7), ("Steffensen", 7), ("Kjeldsen", 7),
    ("Bech", 7), ("Krogh", 7), ("Lauritsen", 7), ("Danielsen", 7), ("Mathiesen", 6),
    ("Andresen", 6), ("Brandt", 6), ("Winther", 6), ("Toft", 6), ("Ravn", 6), ("Mathiasen", 6),
    ("Dam", 6), ("Holst", 6), ("Nilsson", 5), ("Lind", 5), ("Berg", 5), ("Schou", 5),
    ("Overgaard", 5), ("Kristoffersen", 5), ("Schultz", 5), ("Klausen", 5), ("Karlsen", 5),
    ("Paulsen", 5), ("Hermansen", 5), ("Thorsen", 5), ("Koch", 5), ("Thygesen", 4),
    ("Bang", 4), ("Bisgaard", 4), ("Søgaard", 4), ("Dalsgaard", 4), ("Kjærgaard", 4),
    ("Grønbæk", 3), ("Højgaard", 3), ("Aagaard", 3), ("Bøgh", 3), ("Bæk", 3), ("Brøndum", 2),
    ("Lykkegaard", 2), ("Sønderby", 2), ("Kærgaard", 2), ("Strøm", 2), ("Høj", 2),
    ("Fløe", 1), ("Åberg", 1), ("Løvgreen", 0.5), ("Ågesen", 0.5), ("Hjørne", 0.5),
    ("Æbelø", 0.5), ("Dyrløv", 0.3), ("Dræby", 0.3),
)  # fmt: skip

# Danish middle names written in front of the family name ("Skov Hansen").
MIDDLE: tuple[str, ...] = (
    "Skov", "Holm", "Juul", "Krogh", "Bech", "Dam", "Lund", "Friis", "Bak", "Toft", "Kjær",
    "Bruun", "Østergaard", "Søgaard",
)  # fmt: skip

TURKISH_FEMALE: Weighted = zipf(
    ("Ayşe", "Fatma", "Emine", "Hatice", "Zeynep", "Elif", "Özlem", "Gülşen", "Büşra", "Şükran")
)
TURKISH_MALE: Weighted = zipf(
    ("Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "Murat", "Ömer", "Çağrı")
)
TURKISH_FAMILY: Weighted = zipf(
    (
        "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Özdemir",
        "Arslan", "Doğan", "Kılıç", "Çakır", "Koç", "Güler",
    )
)  # fmt: skip

POLISH_FEMALE: Weighted = zipf(
    (
        "Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Krystyna",
        "Magdalena", "Joanna", "Żaneta", "Grażyna",
    )
)  # fmt: skip
POLISH_MALE: Weighted = zipf(
    (
        "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał", "Łukasz", "Marcin",
        "Grzegorz", "Józef", "Wojciech",
    )
)  # fmt: skip
# Masculine forms; feminine_polish() turns -ski/-cki into -ska/-cka.
POLISH_FAMILY: Weighted = zipf(
    (
        "Nowak", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
        "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Mazur", "Kwiatkowski", "Krawczyk",
        "Król", "Wróbel", "Jabłoński", "Pawłowski",
    )
)  # fmt: skip


def feminine_polish(family: str) -> str:
    """The feminine form of a Polish family name (Kowalski -> Kowalska)."""
    if family.endswith(("ski", "cki", "dzki")):
        return family[:-1] + "a"
    return family


# Characters folded when a name is typed on a keyboard or system without them.
TRANSLITERATIONS: dict[str, tuple[str, ...]] = {
    "æ": ("ae",),
    "ø": ("oe", "o"),
    "å": ("aa", "a"),
    "Æ": ("Ae",),
    "Ø": ("Oe", "O"),
    "Å": ("Aa", "A"),
    "é": ("e",),
    "ş": ("s",),
    "Ş": ("S",),
    "ı": ("i",),
    "İ": ("I",),
    "ç": ("c",),
    "Ç": ("C",),
    "ğ": ("g",),
    "ö": ("o", "oe"),
    "Ö": ("O", "Oe"),
    "ü": ("u", "ue"),
    "ł": ("l",),
    "Ł": ("L",),
    "ą": ("a",),
    "ę": ("e",),
    "ś": ("s",),
    "ź": ("z",),
    "ż": ("z",),
    "Ż": ("Z",),
    "ó": ("o",),
    "ń": ("n",),
    "ć": ("c",),
}

# Letters a typo may insert or substitute.
TYPO_LETTERS = "abcdefghijklmnoprstuvyæøå"

# Regions (Danmarks Statistik region codes) and a few of their municipalities, weighted
# roughly by population. Codes are the 3-digit municipality codes.
REGIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "1081": (  # Region Nordjylland
        ("851", 220), ("813", 60), ("860", 64), ("849", 38), ("846", 42), ("787", 43),
        ("820", 37),
    ),
    "1082": (  # Region Midtjylland
        ("751", 360), ("740", 95), ("657", 90), ("730", 98), ("791", 97), ("615", 95),
        ("661", 59), ("756", 41), ("706", 43),
    ),
    "1083": (  # Region Syddanmark
        ("461", 205), ("561", 116), ("621", 93), ("630", 117), ("607", 52), ("510", 56),
        ("540", 74), ("479", 59), ("573", 50),
    ),
    "1084": (  # Region Hovedstaden
        ("101", 650), ("147", 103), ("151", 52), ("157", 75), ("159", 70), ("167", 55),
        ("173", 57), ("175", 40), ("185", 44), ("217", 63), ("219", 51), ("400", 39),
    ),
    "1085": (  # Region Sjælland
        ("253", 51), ("259", 61), ("265", 90), ("316", 72), ("326", 48), ("330", 79),
        ("370", 83), ("376", 60), ("390", 45),
    ),
}  # fmt: skip

REGION_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("1081", 0.59),
    ("1082", 1.35),
    ("1083", 1.23),
    ("1084", 1.87),
    ("1085", 0.84),
)
