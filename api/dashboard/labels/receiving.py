"""Labels of what "receiving" means on the pages: beside counts, new dimensions, findings.

Keys start with ``rc_`` so that no other area's module can clash with them.
"""

from __future__ import annotations

RECEIVING: dict[str, dict[str, str]] = {
    "en": {
        "rc_suspended": "Suspended",
        "rc_pending": "Pending",
        "rc_target_group": "Target group",
        "rc_municipality": "Municipality",
        "rc_note": (
            "Persons: receiving on the day (an episode with status active or ended, or none,"
            " covering it). Suspended and pending: persons with such an episode on the day"
            " and no receiving one, shown beside, never counted in."
        ),
        "rc_trends_beside": "Suspended and pending persons beside",
        "rc_trends_beside_caption": (
            "Persons suspended or pending (and not receiving) per programme, {start} to {end}"
        ),
        "rc_findings": "Status and age findings",
        "rc_findings_caption": (
            "Episodes whose status contradicts their dates, and recipients under 18 in"
            " adult benefits, as of {day}"
        ),
        "rc_finding": "Finding",
        "rc_count": "Episodes",
        "rc_show_records": "Show the records",
        "rc_no_findings": "No episode breaks a rule.",
        "rc_sample_caption": "Records with this finding: the first {shown} of {total}",
        "rc_f_ended_without_end_date": "Ended without an end date",
        "rc_f_ended_after_report_date": "Ended, but the end date is still to come",
        "rc_f_active_with_past_end_date": "Active, but the end date has passed",
        "rc_f_active_before_start": "Active before the start date",
        "rc_f_pending_too_long": "Pending for more than 90 days",
        "rc_f_unknown_status": "Status outside the vocabulary",
        "rc_f_under_18_in_adult_benefit": "Under 18 in an adult benefit",
    },
    "da": {
        "rc_suspended": "Suspenderet",
        "rc_pending": "Afventer",
        "rc_target_group": "Målgruppe",
        "rc_municipality": "Kommune",
        "rc_note": (
            "Personer: modtagere på dagen (et forløb med status aktiv eller afsluttet, eller"
            " ingen, der dækker dagen). Suspenderet og afventer: personer med et sådant forløb"
            " på dagen og intet modtagende, vist ved siden af, aldrig talt med."
        ),
        "rc_trends_beside": "Suspenderede og afventende personer ved siden af",
        "rc_trends_beside_caption": (
            "Personer suspenderet eller afventende (og ikke modtagere) pr. ordning,"
            " {start} til {end}"
        ),
        "rc_findings": "Fund om status og alder",
        "rc_findings_caption": (
            "Forløb hvis status modsiger datoerne, og modtagere under 18 år i ydelser til"
            " voksne, pr. {day}"
        ),
        "rc_finding": "Fund",
        "rc_count": "Forløb",
        "rc_show_records": "Vis posterne",
        "rc_no_findings": "Intet forløb bryder en regel.",
        "rc_sample_caption": "Poster med dette fund: de første {shown} af {total}",
        "rc_f_ended_without_end_date": "Afsluttet uden slutdato",
        "rc_f_ended_after_report_date": "Afsluttet, men slutdatoen er ikke nået",
        "rc_f_active_with_past_end_date": "Aktiv, men slutdatoen er passeret",
        "rc_f_active_before_start": "Aktiv før startdatoen",
        "rc_f_pending_too_long": "Afventer i mere end 90 dage",
        "rc_f_unknown_status": "Status uden for ordlisten",
        "rc_f_under_18_in_adult_benefit": "Under 18 år i en ydelse til voksne",
    },
}
