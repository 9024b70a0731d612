"""docs/findings.md, written from the rule pack (``python -m scrub837.rulebook._catalog``)."""

from __future__ import annotations

import sys

#: the envelope and file findings built into the reader and engine (their findings carry no
#: title): rule id, short title (the HTML report's reasons table), severity, STC, what triggers
#: it, an example
ENVELOPE = [
    ("X12_UNREADABLE", "The file cannot be read as X12",
     "reject", "A3:21", ("the input cannot be read as X12 (not X12, truncated, "
     "a segment over 1 MiB, colliding delimiters); the file gets an error report"), "(file)"),
    ("X12_ENVELOPE", "ISA/GS/ST envelopes do not nest",
     "reject / warn", "A3:21", ("ISA/GS/ST nesting broken: GS outside ISA, ST "
     "outside GS, a new ISA/ST before IEA/SE, segments outside a transaction; rejects a "
     "transaction left without SE, a warning outside a transaction (an ISA/IEA problem gets a "
     "TA1)"), "ST*837*0002~ inside ST 0001"),
    ("X12_CONTROL_NUMBER", "A trailer's control number does not match its header",
     "reject / warn", "A3:21", ("SE02 != ST02 rejects the transaction; "
     "IEA02 != ISA13 (TA1 TA105 001), GE02 != GS06, ISA13 not 9 digits (018) or repeated (025) "
     "are warnings: the interchange is accepted with errors"), "SE*31*0002~ for ST*837*0001"),
    ("X12_COUNT", "SE01, GE01 or IEA01 does not count what it closes",
     "reject / warn", "A3:21", ("SE01 does not count its transaction: rejects it; "
     "IEA01 (TA1 TA105 021) or GE01 wrong: a warning"), "SE*7*0001~"),
    ("X12_VERSION_PRE_ERRATA", "GS08 names the 5010 version before the A1/A2 errata",
     "warn", "A3:21", ("GS08 005010X222 / 005010X223 (before the "
     "A1/A2 errata): scrubbed as the errata version; `--reject-pre-errata` rejects the "
     "transaction"), "GS*HC*S*R*20260301*1200*1*X*005010X222~"),
    ("X12_UNSUPPORTED", "Not an 837P/837I 5010 transaction",
     "reject", "A3:21", ("a transaction that is not an 837P/837I 5010 (835, "
     "270, 004010 ...); reported for that transaction"), "ST*835*0001~"),
    ("X12_STRUCTURE", "The HL hierarchy is broken",
     "reject", "A3:21", ("HL hierarchy broken (CLM before HL 22, unknown HL03, a "
     "parent that does not exist); rejects the transaction"), "HL*2*7*22*0~"),
    ("X12_IRREGULAR", "Read past an irregularity",
     "warn", "-", ("read past with a warning: byte-order mark, unpadded ISA, ST03 "
     "differing from GS08, a final IEA without terminator"), "ISA*00*...*ZZ*SENDER*..."),
    ("IG_INVALID", "The implementation guide's validation rejects the transaction",
     "reject", "A3:684", ("with --validate: pyx12 rejects the transaction (see the "
     "999)"), "(999 IK5*R)"),
    ("ENGINE_ERROR", "An edit could not check this claim",
     "reject", "A3:21", ("an edit raised on odd data; the claim could not be "
     "checked (the run goes on)"), "(any)"),
]


def render() -> str:
    from scrub837.rulebook import load_rulebook

    rb = load_rulebook()
    out = ["# Findings catalogue", "",
           ("Every rule id scrub837 reports: default severity, the 277CA STC composites "
           "(STC01, then STC10/STC11), what triggers it and an example segment. Drug-line rules "
           "come from `rules/edits.toml` (this page is written from it: "
           "`python -m scrub837.rulebook._catalog > docs/findings.md`; a test keeps them in "
           "sync). Payer overlays may change a rule's severity or switch it off."), "",
           ("Warnings never reject a claim (a 277CA has no warning status): they appear in the "
           "HTML and JSON reports only."), "",
           "## Drug-line edits", "",
           "| rule id | severity | STC | what triggers it | fix | example segment | source |",
           "|---|---|---|---|---|---|---|"]
    for rule_id, d in rb.edits.items():
        cells = [f"`{rule_id}`", d.severity.value, ", ".join(str(s) for s in d.stc),
                 d.title + ": " + d.message, d.fix, f"`{d.example}`" if d.example else "",
                 d.source]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += ["", "## Envelope and file findings (built in)", "",
            "| rule id | severity | STC | what triggers it | example |", "|---|---|---|---|---|"]
    for rule_id, _title, sev, stc, what, example in ENVELOPE:
        out.append(f"| `{rule_id}` | {sev} | {stc} | {what} | `{example}` |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
