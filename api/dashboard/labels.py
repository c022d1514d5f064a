"""Dashboard labels in English and Danish, and how a request picks its language."""

from __future__ import annotations

LANGUAGES = ("en", "da")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Social registry oversight",
        "login": "Sign in",
        "logout": "Sign out",
        "username": "User name",
        "password": "Password",
        "bad_login": "The user name or password is not valid, or the account is locked.",
        "signed_in_as": "Signed in as",
        "home": "Overview",
        "coverage": "Coverage",
        "overlaps": "Programme overlaps",
        "counts": "Persons by number of programmes",
        "trends": "Monthly trends",
        "duplicates": "Duplicates and exclusivity",
        "quality": "Feed quality",
        "review": "Review queue",
        "as_of": "As of",
        "from": "From",
        "to": "To",
        "show": "Show",
        "programme": "Programme",
        "region": "Region",
        "persons": "Persons",
        "enrolments": "Enrolments",
        "total": "Total",
        "programmes": "Programmes",
        "number_of_programmes": "Number of programmes",
        "month": "Month",
        "download_csv": "Download CSV",
        "suppressed_legend": (
            "· = suppressed: fewer than {k} persons, or hidden so that a small count "
            "cannot be worked out from the totals."
        ),
        "heatmap_caption": "Persons active in both programmes (diagonal: in the programme).",
        "double_enrolments": "Enrolled twice in one programme",
        "same_benefit_code": "With the same benefit code",
        "exclusive": "In both of a pair marked mutually exclusive",
        "none": "None found.",
        "choose_programme": "Choose a programme",
        "recipients": "Recipients per quarter and benefit code",
        "quarter": "Quarter",
        "benefit_code": "Benefit code",
        "errors": "Errors and warnings",
        "category": "Category",
        "count": "Count",
        "data_breaks": "Data breaks",
        "start_date_spikes": "Start-date spikes",
        "active_count_jumps": "Jumps in active persons",
        "last_batches": "Last batches",
        "batch": "Batch",
        "received_at": "Received",
        "received": "Records",
        "accepted": "Accepted",
        "rejected": "Rejected",
        "unchanged": "Unchanged",
        "pending": "Pending review items",
        "oldest": "Oldest pending item",
        "age": "Age",
        "days": "days",
        "hours": "hours",
        "empty_queue": "The queue is empty.",
        "by_reason": "By reason",
        "reason": "Reason",
        "forbidden": "Access refused",
        "forbidden_text": "Your roles do not give access to this page.",
        "not_signed_in": "You are not signed in.",
        "error": "The request could not be answered",
        "no_pages": "Your roles give access to none of the dashboard pages.",
        "language": "Dansk",
    },
    "da": {
        "title": "Socialregistret – tilsyn",
        "login": "Log ind",
        "logout": "Log ud",
        "username": "Brugernavn",
        "password": "Adgangskode",
        "bad_login": "Brugernavn eller adgangskode er forkert, eller kontoen er spærret.",
        "signed_in_as": "Logget ind som",
        "home": "Oversigt",
        "coverage": "Dækning",
        "overlaps": "Overlap mellem ordninger",
        "counts": "Personer efter antal ordninger",
        "trends": "Månedlig udvikling",
        "duplicates": "Dubletter og gensidig udelukkelse",
        "quality": "Leverancekvalitet",
        "review": "Sagskø til vurdering",
        "as_of": "Pr. dato",
        "from": "Fra",
        "to": "Til",
        "show": "Vis",
        "programme": "Ordning",
        "region": "Region",
        "persons": "Personer",
        "enrolments": "Tilkendelser",
        "total": "I alt",
        "programmes": "Ordninger",
        "number_of_programmes": "Antal ordninger",
        "month": "Måned",
        "download_csv": "Hent CSV",
        "suppressed_legend": (
            "· = diskretioneret: færre end {k} personer, eller skjult så et lille tal "
            "ikke kan regnes ud fra totalerne."
        ),
        "heatmap_caption": "Personer aktive i begge ordninger (diagonalen: i ordningen).",
        "double_enrolments": "Tilmeldt to gange i samme ordning",
        "same_benefit_code": "Med samme ydelseskode",
        "exclusive": "I begge af et par markeret som gensidigt udelukkende",
        "none": "Ingen fundet.",
        "choose_programme": "Vælg en ordning",
        "recipients": "Modtagere pr. kvartal og ydelseskode",
        "quarter": "Kvartal",
        "benefit_code": "Ydelseskode",
        "errors": "Fejl og advarsler",
        "category": "Kategori",
        "count": "Antal",
        "data_breaks": "Databrud",
        "start_date_spikes": "Ophobning af startdatoer",
        "active_count_jumps": "Spring i antal aktive",
        "last_batches": "Seneste leverancer",
        "batch": "Leverance",
        "received_at": "Modtaget",
        "received": "Poster",
        "accepted": "Godkendt",
        "rejected": "Afvist",
        "unchanged": "Uændret",
        "pending": "Sager til vurdering",
        "oldest": "Ældste ventende sag",
        "age": "Alder",
        "days": "dage",
        "hours": "timer",
        "empty_queue": "Køen er tom.",
        "by_reason": "Efter årsag",
        "reason": "Årsag",
        "forbidden": "Adgang nægtet",
        "forbidden_text": "Dine roller giver ikke adgang til denne side.",
        "not_signed_in": "Du er ikke logget ind.",
        "error": "Forespørgslen kunne ikke besvares",
        "no_pages": "Dine roller giver ikke adgang til nogen af siderne.",
        "language": "English",
    },
}


def pick_language(requested: str | None, accept_language: str | None) -> str:
    """`lang` if it names a known language, else the best Accept-Language match, else English."""
    if requested in LANGUAGES:
        return str(requested)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return sorted(ranked)[0][2] if ranked else "en"
