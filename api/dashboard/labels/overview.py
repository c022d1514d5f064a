"""Labels of the oversight pages (home figures, breakdowns, drill-down, reconciliation).

Keys start with ``ov_`` so that no other area's module can clash with them.
"""

from __future__ import annotations

OVERVIEW: dict[str, dict[str, str]] = {
    "en": {
        "reconciliation": "Reconciliation",
        "ov_year": "Year",
        "ov_figures": "Key figures",
        "ov_persons_registry": "Persons in the registry",
        "ov_pending_none": "No review items are waiting.",
        "ov_last_batches": "Last batch per programme",
        "ov_no_batch": "No batch yet",
        "ov_chain": "Audit trail",
        "ov_chain_ok": "The newest event (no. {id}, {at}) links to the one before it.",
        "ov_chain_broken": "The newest link does not hold: {problem}.",
        "ov_chain_empty": "The trail holds no events yet.",
        "ov_chain_note": (
            "A quick check of the newest link only; the audit verification checks the whole chain."
        ),
        "ov_your_pages": "Your pages",
        "ov_local_time": "Times are Danish local time (Europe/Copenhagen).",
        "ov_breakdown": "Break down by",
        "ov_region_filter": "Region",
        "ov_all_regions": "All regions",
        "ov_sex": "Sex",
        "ov_age_band": "Age band",
        "ov_sex_F": "Women",
        "ov_sex_M": "Men",
        "ov_unknown": "Unknown",
        "ov_by": "By {what}",
        "ov_in_region": "in {region}",
        "ov_caption_programme": "Persons and enrolments by programme, {day}",
        "ov_caption_pivot": "Persons by programme and region, {day}",
        "ov_caption_breakdown": "Persons and enrolments by {what}, {day}",
        "ov_empty_day": "No one was enrolled on this date.",
        "ov_empty_region": "No one in this region was enrolled on this date.",
        "ov_caption_overlaps": "Persons active in both programmes, {day}",
        "ov_caption_counts": "Persons by number of programmes, {day}",
        "ov_caption_trends": "Distinct active persons per programme {interval}, {start} to {end}",
        "ov_interval_month": "per month",
        "ov_interval_quarter": "per quarter",
        "ov_interval_year": "per year",
        "ov_period": "Period",
        "ov_long_range": (
            "Long ranges are shown by quarter (over 24 months) or year (over 8 years)."
        ),
        "ov_chart_heatmap": (
            "Heat map of {n} programmes: each cell holds the persons active in both the row's "
            "and the column's programme; darker is more. The table below has the same numbers."
        ),
        "ov_chart_bars": (
            "Bar chart: persons by how many programmes they are active in. The table below has "
            "the same numbers."
        ),
        "ov_chart_lines": (
            "Line chart, one line per programme, {n} periods. The table below has the same numbers."
        ),
        "ov_legend": "Legend",
        "ov_show_persons": "Show the persons",
        "ov_persons_behind": "Persons behind the finding",
        "ov_double_of": "Enrolled twice in {programme}",
        "ov_exclusive_of": "In both {a} and {b}",
        "ov_person": "Person",
        "ov_source_id": "Source id",
        "ov_start": "Start",
        "ov_end": "End",
        "ov_listed": "{total} persons in your regions.",
        "ov_page_of": "Page {page} of {pages}",
        "ov_next": "Next page",
        "ov_previous": "Previous page",
        "ov_back_duplicates": "Back to duplicates",
        "ov_purpose": "Purpose",
        "ov_purpose_pick": (
            "These pages show persons. Choose why you look them up: the look-up is logged "
            "with the persons shown and the reason."
        ),
        "ov_purpose_control": "Control of double payments",
        "ov_purpose_case": "Case handling",
        "ov_purpose_correction": "Correcting a programme's data",
        "ov_purpose_supervision": "Supervision",
        "ov_open": "Open",
        "ov_no_persons": "No persons in your regions behind this finding.",
        "ov_reconciliation": "Reconciliation",
        "ov_reconciliation_intro": (
            "Compare a programme with a reference extract (for example the municipality's own "
            "list) as of a date: who is on one side only, and whose grants differ."
        ),
        "ov_reference": "Reference extract (CSV)",
        "ov_reference_help": (
            "Columns: source_id and/or national_id, benefit_code, start_date, end_date "
            "(YYYY-MM-DD); at most 50,000 rows and 20 MB."
        ),
        "ov_benefit_filter": "Benefit code (optional)",
        "ov_compare": "Compare",
        "ov_compare_csv": "Compare and download CSV",
        "ov_summary": "Summary",
        "ov_side_left": "In the programme",
        "ov_side_right": "In the extract",
        "ov_both": "In both",
        "ov_left_only": "Only in the programme",
        "ov_right_only": "Only in the extract",
        "ov_differing": "Grants that differ",
        "ov_unresolved": "Extract rows not compared",
        "ov_unresolved_help": (
            "Rows whose person was not found in your regions (or not at all) are counted only."
        ),
        "ov_differences": "Differences",
        "ov_more_in_csv": "… and {n} more: download the CSV.",
        "ov_none_listed": "None.",
        "ov_diff_benefit_code": "benefit code",
        "ov_diff_start_date": "start date",
        "ov_diff_end_date": "end date",
    },
    "da": {
        "reconciliation": "Afstemning",
        "ov_year": "År",
        "ov_figures": "Nøgletal",
        "ov_persons_registry": "Personer i registret",
        "ov_pending_none": "Ingen sager venter på vurdering.",
        "ov_last_batches": "Seneste leverance pr. ordning",
        "ov_no_batch": "Ingen leverance endnu",
        "ov_chain": "Revisionsspor",
        "ov_chain_ok": "Den nyeste hændelse (nr. {id}, {at}) hænger sammen med den forrige.",
        "ov_chain_broken": "Det nyeste led holder ikke: {problem}.",
        "ov_chain_empty": "Sporet har endnu ingen hændelser.",
        "ov_chain_note": (
            "Et hurtigt tjek af det nyeste led alene; revisionens verifikation tjekker hele kæden."
        ),
        "ov_your_pages": "Dine sider",
        "ov_local_time": "Tidspunkter er dansk tid (Europe/Copenhagen).",
        "ov_breakdown": "Fordel efter",
        "ov_region_filter": "Region",
        "ov_all_regions": "Alle regioner",
        "ov_sex": "Køn",
        "ov_age_band": "Aldersgruppe",
        "ov_sex_F": "Kvinder",
        "ov_sex_M": "Mænd",
        "ov_unknown": "Ukendt",
        "ov_by": "Efter {what}",
        "ov_in_region": "i {region}",
        "ov_caption_programme": "Personer og tilkendelser efter ordning, {day}",
        "ov_caption_pivot": "Personer efter ordning og region, {day}",
        "ov_caption_breakdown": "Personer og tilkendelser efter {what}, {day}",
        "ov_empty_day": "Ingen var tilmeldt på denne dato.",
        "ov_empty_region": "Ingen i denne region var tilmeldt på denne dato.",
        "ov_caption_overlaps": "Personer aktive i begge ordninger, {day}",
        "ov_caption_counts": "Personer efter antal ordninger, {day}",
        "ov_caption_trends": (
            "Forskellige aktive personer pr. ordning {interval}, {start} til {end}"
        ),
        "ov_interval_month": "pr. måned",
        "ov_interval_quarter": "pr. kvartal",
        "ov_interval_year": "pr. år",
        "ov_period": "Periode",
        "ov_long_range": "Lange perioder vises pr. kvartal (over 24 måneder) eller år (over 8 år).",
        "ov_chart_heatmap": (
            "Varmekort over {n} ordninger: hver celle viser personer aktive i både rækkens og "
            "søjlens ordning; mørkere er flere. Tabellen nedenfor har de samme tal."
        ),
        "ov_chart_bars": (
            "Søjlediagram: personer efter hvor mange ordninger de er aktive i. Tabellen "
            "nedenfor har de samme tal."
        ),
        "ov_chart_lines": (
            "Kurvediagram med en kurve pr. ordning, {n} perioder. Tabellen nedenfor har de "
            "samme tal."
        ),
        "ov_legend": "Signaturforklaring",
        "ov_show_persons": "Vis personerne",
        "ov_persons_behind": "Personerne bag fundet",
        "ov_double_of": "Tilmeldt to gange i {programme}",
        "ov_exclusive_of": "I både {a} og {b}",
        "ov_person": "Person",
        "ov_source_id": "Kilde-id",
        "ov_start": "Start",
        "ov_end": "Slut",
        "ov_listed": "{total} personer i dine regioner.",
        "ov_page_of": "Side {page} af {pages}",
        "ov_next": "Næste side",
        "ov_previous": "Forrige side",
        "ov_back_duplicates": "Tilbage til dubletter",
        "ov_purpose": "Formål",
        "ov_purpose_pick": (
            "Siderne viser personer. Vælg hvorfor du slår dem op: opslaget logges med de viste "
            "personer og formålet."
        ),
        "ov_purpose_control": "Kontrol af dobbeltudbetalinger",
        "ov_purpose_case": "Sagsbehandling",
        "ov_purpose_correction": "Rettelse af en ordnings data",
        "ov_purpose_supervision": "Tilsyn",
        "ov_open": "Åbn",
        "ov_no_persons": "Ingen personer i dine regioner bag dette fund.",
        "ov_reconciliation": "Afstemning",
        "ov_reconciliation_intro": (
            "Sammenlign en ordning med et referenceudtræk (fx kommunens egen liste) pr. en "
            "dato: hvem findes kun på den ene side, og hvis bevillinger afviger."
        ),
        "ov_reference": "Referenceudtræk (CSV)",
        "ov_reference_help": (
            "Kolonner: source_id og/eller national_id, benefit_code, start_date, end_date "
            "(ÅÅÅÅ-MM-DD); højst 50.000 rækker og 20 MB."
        ),
        "ov_benefit_filter": "Ydelseskode (valgfri)",
        "ov_compare": "Sammenlign",
        "ov_compare_csv": "Sammenlign og hent CSV",
        "ov_summary": "Resumé",
        "ov_side_left": "I ordningen",
        "ov_side_right": "I udtrækket",
        "ov_both": "I begge",
        "ov_left_only": "Kun i ordningen",
        "ov_right_only": "Kun i udtrækket",
        "ov_differing": "Bevillinger der afviger",
        "ov_unresolved": "Rækker i udtrækket uden sammenligning",
        "ov_unresolved_help": (
            "Rækker hvis person ikke findes i dine regioner (eller slet ikke) tælles kun med."
        ),
        "ov_differences": "Afvigelser",
        "ov_more_in_csv": "… og {n} flere: hent CSV-filen.",
        "ov_none_listed": "Ingen.",
        "ov_diff_benefit_code": "ydelseskode",
        "ov_diff_start_date": "startdato",
        "ov_diff_end_date": "slutdato",
    },
}
