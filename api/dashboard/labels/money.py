"""Labels of the money and movement pages (spending, inflow/outflow, durations, full-year).

Keys start with ``mo_`` (and the two page names) so that no other area's module can clash.
"""

from __future__ import annotations

MONEY: dict[str, dict[str, str]] = {
    "en": {
        "spending": "Spending",
        "movement": "Inflow and outflow",
        "mo_interval": "Period",
        "mo_month": "Month",
        "mo_quarter": "Quarter",
        "mo_year": "Year",
        "mo_by": "Break down by",
        "mo_by_programme": "Programme",
        "mo_by_programme_region": "Programme and region",
        "mo_by_programme_municipality": "Programme and municipality",
        "mo_by_programme_benefit_code": "Programme and benefit code",
        "mo_by_programme_target_group": "Programme and target group",
        "mo_by_programme_age_band": "Programme and age at the event",
        "mo_by_region": "Region",
        "mo_by_municipality": "Municipality",
        "mo_by_target_group": "Target group",
        "mo_municipality": "Municipality",
        "mo_target_group": "Target group",
        "mo_age_band": "Age at the event",
        "mo_total": "Total",
        "mo_amount_note": (
            "Amounts in DKK, paid to receiving episodes only (suspended and pending are not "
            "paid): a monthly amount by the days of each month it covers, a yearly amount by "
            "the days of the year, a payment in the period of its start date."
        ),
        "mo_left_out": "{n} amounts without a period (per month, year or payment) are left out.",
        "mo_left_out_hidden": "Some amounts without a period are left out (fewer than {k}).",
        "mo_caption_spending": "Spending in DKK {interval}, {start} to {end}",
        "mo_empty": "No amounts in this range.",
        "mo_flows": "Inflow and outflow",
        "mo_flows_note": (
            "Inflow: receiving spells that start in the period; outflow: spells whose last "
            "day falls in it. Moving between episodes of one programme without a day off is "
            "no flow."
        ),
        "mo_caption_flows": "Spells started and ended {interval}, {start} to {end}",
        "mo_period": "Period",
        "mo_inflow": "Inflow",
        "mo_outflow": "Outflow",
        "mo_durations": "Durations",
        "mo_durations_note": (
            "Spells started from {start} to {end}, seen on {end}. Open spells are counted by "
            "their time so far; the median is Kaplan-Meier's and is shown once half have ended."
        ),
        "mo_caption_durations": "Duration of spells started {start} to {end}",
        "mo_spells": "Spells",
        "mo_ended": "Ended",
        "mo_open": "Still receiving",
        "mo_median": "Median days",
        "mo_not_reached": "not reached",
        "mo_band": "{band}: ended / open",
        "mo_full_year": "Full-year persons",
        "mo_full_year_note": (
            "Receiving days in the year divided by the days in the year, summed over persons."
        ),
        "mo_caption_full_year": "Full-year persons and persons, {start} to {end}",
        "mo_persons": "Persons",
        "mo_fyp": "Full-year persons",
    },
    "da": {
        "spending": "Udgifter",
        "movement": "Til- og afgang",
        "mo_interval": "Periode",
        "mo_month": "Måned",
        "mo_quarter": "Kvartal",
        "mo_year": "År",
        "mo_by": "Opdel efter",
        "mo_by_programme": "Ordning",
        "mo_by_programme_region": "Ordning og region",
        "mo_by_programme_municipality": "Ordning og kommune",
        "mo_by_programme_benefit_code": "Ordning og ydelseskode",
        "mo_by_programme_target_group": "Ordning og målgruppe",
        "mo_by_programme_age_band": "Ordning og alder ved hændelsen",
        "mo_by_region": "Region",
        "mo_by_municipality": "Kommune",
        "mo_by_target_group": "Målgruppe",
        "mo_municipality": "Kommune",
        "mo_target_group": "Målgruppe",
        "mo_age_band": "Alder ved hændelsen",
        "mo_total": "I alt",
        "mo_amount_note": (
            "Beløb i kr., kun udbetalt til forløb, hvor ydelsen modtages (suspenderede og "
            "afventende udbetales ikke): et månedsbeløb efter dagene i hver måned, det dækker, "
            "et årsbeløb efter årets dage, en engangsudbetaling i perioden med startdatoen."
        ),
        "mo_left_out": "{n} beløb uden periode (pr. måned, år eller udbetaling) er udeladt.",
        "mo_left_out_hidden": "Nogle beløb uden periode er udeladt (færre end {k}).",
        "mo_caption_spending": "Udgifter i kr. {interval}, {start} til {end}",
        "mo_empty": "Ingen beløb i perioden.",
        "mo_flows": "Til- og afgang",
        "mo_flows_note": (
            "Tilgang: forløb, der begynder i perioden; afgang: forløb, hvis sidste dag ligger "
            "i den. Skift mellem forløb i samme ordning uden en dags pause er ingen bevægelse."
        ),
        "mo_caption_flows": "Forløb begyndt og afsluttet {interval}, {start} til {end}",
        "mo_period": "Periode",
        "mo_inflow": "Tilgang",
        "mo_outflow": "Afgang",
        "mo_durations": "Varighed",
        "mo_durations_note": (
            "Forløb begyndt fra {start} til {end}, set den {end}. Åbne forløb tælles med deres "
            "varighed indtil da; medianen er Kaplan-Meiers og vises, når halvdelen er afsluttet."
        ),
        "mo_caption_durations": "Varighed af forløb begyndt {start} til {end}",
        "mo_spells": "Forløb",
        "mo_ended": "Afsluttet",
        "mo_open": "Modtager stadig",
        "mo_median": "Median, dage",
        "mo_not_reached": "ikke nået",
        "mo_band": "{band}: afsluttet / åbne",
        "mo_full_year": "Helårspersoner",
        "mo_full_year_note": "Dage med ydelse i året delt med årets dage, summeret over personer.",
        "mo_caption_full_year": "Helårspersoner og personer, {start} til {end}",
        "mo_persons": "Personer",
        "mo_fyp": "Helårspersoner",
    },
}
