"""Obligations no machine can check. They are listed as MANUAL with an owner from the profile, never dropped."""

from __future__ import annotations

from avg_voip.findings import Finding, RuleMeta, Severity, Status
from avg_voip.profile import Profile

PROCESSOR_AGREEMENT = RuleMeta(
    "AVG-MAN-028",
    "A processor agreement (Art. 28) is in place with every processor",
    ("28",),
    Severity.HIGH,
    "A hosting or VoIP provider processing on the organisation's behalf needs a written agreement stating the data, "
    "measures, location, retention and sub-processors. Missing one is a violation in itself.",
    "Keep the signed agreement under the reference named in organisation.processors[].agreement_ref and review it "
    "yearly.",
)
DPIA = RuleMeta(
    "AVG-MAN-035",
    "A data protection impact assessment covers call recording where required (Art. 35)",
    ("35",),
    Severity.HIGH,
    "Large-scale, systematic recording of calls and processing of health or financial data are on the AP's list of "
    "processing that needs a DPIA before it starts.",
    "Carry out and document the DPIA; record its reference in dpia.reference.",
)
BREACH = RuleMeta(
    "AVG-MAN-033",
    "A breach procedure reports to the AP within 72 hours and informs callers when the risk is high (Art. 33-34)",
    ("33", "34"),
    Severity.HIGH,
    "A leaked recording or call log must be assessed, documented and, where there is risk, reported within 72 hours.",
    "Keep a breach procedure with the security officer as owner; rehearse it yearly.",
)
NOTICE = RuleMeta(
    "AVG-MAN-013",
    "Callers are told before recording starts that, why and how long the call is recorded (Art. 12-14)",
    ("12", "13"),
    Severity.HIGH,
    "Silent recording is not allowed; callers must hear the notice before recording starts and be able to object.",
    "Play the notice in the IVR before recording starts (recording_notice.played_by_ivr) and keep its text.",
)
RIGHTS = RuleMeta(
    "AVG-MAN-015",
    "Callers' requests for access and erasure of recordings are answered within a month (Art. 15, 17)",
    ("15", "17"),
    Severity.MEDIUM,
    "Callers may get a copy of their recordings and have them erased when no ground remains; the platform must find "
    "recordings by number and date and record the request and answer.",
    "Keep a procedure to find recordings by caller number and date (object prefix and metadata), export or delete "
    "them (all versions), and log the request.",
)
TRANSFER_SAFEGUARDS = RuleMeta(
    "AVG-MAN-046",
    "Processors and sub-processors outside the EU/EEA receive data only under a Chapter V safeguard: signed SCCs "
    "with a transfer impact assessment, or another ground of Art. 45-49",
    ("44", "46", "49"),
    Severity.HIGH,
    "A processor or sub-processor that processes or can access the data from outside the EU/EEA (support access "
    "included) is a transfer. No deployment check sees it: where the resources stand says nothing about who "
    "reaches them from where.",
    "Keep the signed standard contractual clauses (or the other ground) and a current transfer impact "
    "assessment for each recipient under the ground named in organisation.processors[].transfer_ground or "
    "sub_processors[].transfer_ground; review them yearly and when the recipient country's law changes.",
)
MANUAL_RULES = (PROCESSOR_AGREEMENT, DPIA, BREACH, NOTICE, RIGHTS, TRANSFER_SAFEGUARDS)


def manual_findings(profile: Profile, stack: str) -> list[Finding]:
    org = profile.organisation
    dpo = f"{org.dpo.name} <{org.dpo.email}>"
    sec = f"{org.security_officer.name} <{org.security_officer.email}>"
    out = [
        Finding(
            PROCESSOR_AGREEMENT.id,
            Status.MANUAL,
            f"processor:{p.name}",
            f"agreement {p.agreement_ref} with {p.name} ({p.role}, {p.location}) to be confirmed",
            observed=p.agreement_ref,
            expected="a signed Art. 28 agreement",
            source="manual",
            extra={"owner": dpo},
        )
        for p in org.processors
    ]
    out += [
        Finding(
            TRANSFER_SAFEGUARDS.id,
            Status.MANUAL,
            f"processor:{t.recipient}",
            f"transfer to {t.label} in {t.location} ({', '.join(t.categories)}) on {t.ground}: signed SCCs "
            "and a transfer impact assessment to be confirmed",
            observed=t.ground,
            expected="signed SCCs (or another Chapter V ground) and a current transfer impact assessment",
            source="manual",
            extra={"owner": dpo},
        )
        for t in profile.processor_transfers()
    ]
    if profile.dpia_required:
        ref = profile.dpia.reference
        msg = (
            f"DPIA required; reference {ref} to be confirmed current"
            if ref
            else "DPIA required; no reference in the profile"
        )
        out.append(
            Finding(
                DPIA.id, Status.MANUAL, f"stack:{stack}", msg, ref, "a current DPIA", "manual", {"owner": dpo}
            )
        )
    out.append(
        Finding(
            BREACH.id,
            Status.MANUAL,
            f"stack:{stack}",
            "breach procedure and 72-hour reporting to be confirmed",
            None,
            "a rehearsed procedure",
            "manual",
            {"owner": sec},
        )
    )
    notice = profile.recording_notice
    how = "played by the IVR" if notice.played_by_ivr else "not played by this SIP configuration"
    out.append(
        Finding(
            NOTICE.id,
            Status.MANUAL,
            f"stack:{stack}",
            f"recording notice ({notice.text_reference}) {how}; wording and placement to be confirmed",
            notice.text_reference,
            "notice before recording",
            "manual",
            {"owner": dpo},
        )
    )
    out.append(
        Finding(
            RIGHTS.id,
            Status.MANUAL,
            f"stack:{stack}",
            "access and erasure procedure for recordings to be confirmed",
            None,
            "a procedure answered within one month",
            "manual",
            {"owner": dpo},
        )
    )
    return out
