"""The HTML written as text (outputs/_html_text.py) is what lxml writes for the same elements:
every character lxml accepts, hostile markup, marks on elements and components, and the values
lxml refuses (then the text writer declines and lxml answers, as before)."""

from __future__ import annotations

import pytest
from lxml import etree
from lxml.builder import E

from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.outputs import _html_claim
from scrub837.outputs._html_text import INVALID, finding_html, segment_cell_html, text
from scrub837.x12.lexer import Delimiters, Segment

#: every character lxml takes in text (the astral plane sampled), then some hostile strings
_ACCEPTED = "".join(chr(c) for c in range(0x110000)
                    if not (0xD800 <= c < 0xE000) and (c < 0x10000 or c % 251 == 0)
                    and INVALID.match(chr(c)) is None)
HOSTILE = ["", "plain", "<script>alert(1)</script>", "a & b < c > d", 'quote " \' `', "\r\n\t",
           "caf\u00e9 \u2022 \u2205 \U0001f600", "\x85\x9f\x7f", "&amp; &#13; &lt;", _ACCEPTED]


def _lxml(element: etree._Element) -> str:
    return str(etree.tostring(element, method="html", encoding="unicode"))


def test_text_is_lxmls_text_for_every_character_it_accepts() -> None:
    for value in HOSTILE:
        assert "<div>" + text(value) + "</div>" == _lxml(E.div(value))


def _finding(rule: str = "NDC_MISSING", message: str = "m", fix: str = "", source: str = "",
             stc: tuple[Stc, ...] = (Stc("A7", "218"),), severity: Severity = Severity.REJECT,
             element: str = "SV101-2") -> Finding:
    return Finding(rule, severity, message, Location(segment=3, element=element), stc, fix,
                   source)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_finding_block_is_lxmls(value: str) -> None:
    for f in (_finding(message=value), _finding(fix=value, source=value),
              _finding(rule="R" + value[:40], stc=(), severity=Severity.WARN, message=value),
              _finding(stc=(Stc("A3", "21"), Stc("A7", "454", "85")), fix=value)):
        assert finding_html(f) == _lxml(_html_claim.finding_block(f))


def test_a_finding_lxml_refuses_is_left_to_lxml() -> None:
    for f in (_finding(rule="BAD\x01RULE"), _finding(message="\ufffe"), _finding(fix="\uffff")):
        assert finding_html(f) is None
        with pytest.raises(ValueError):
            _lxml(_html_claim.finding_block(f))


def _segment(elements: tuple[str, ...], delims: Delimiters) -> Segment:
    return Segment(3, 100, 160, elements, delims)


@pytest.mark.parametrize("value", HOSTILE[:-1])
@pytest.mark.parametrize("element", ["SV101", "SV101-2", "SV101-5", "SV102", "SV109", "NM103",
                                     "SV101-7", "XX"])
def test_a_flagged_cell_is_lxmls(value: str, element: str) -> None:
    delims = Delimiters("*", ":", "^", "~")
    seg = _segment(("SV1", f"HC:J9035:{value}", value, "UN", "", "11"), delims)
    for severity in (Severity.REJECT, Severity.WARN):
        found = [_finding(element=element, severity=severity),
                 _finding(element="SV104", severity=Severity.WARN)]
        values = _html_claim._masked_values(seg, True)
        marks = _html_claim._marks(seg, values, found)
        expected = _lxml(_html_claim._segment_cell(seg, found, True))
        assert segment_cell_html(values, marks, "*", ":", "~") == expected


def test_a_cell_with_a_delimiter_lxml_refuses_is_left_to_lxml() -> None:
    delims = Delimiters("\x1d", "\x1f", "^", "\x1c")
    seg = _segment(("SV1", "HC\x1fJ9035", "10"), delims)
    found = [_finding(element="SV101-2")]
    values = _html_claim._masked_values(seg, True)
    marks = _html_claim._marks(seg, values, found)
    assert segment_cell_html(values, marks, "\x1d", "\x1f", "\x1c") is None
    with pytest.raises(ValueError):
        _html_claim._segment_cell(seg, found, True)


def _lxml_claim_head(result: object) -> str:
    """claim_head's h2 and meta as lxml writes them (how it wrote them before the text)."""
    from scrub837.verdicts.results import ClaimResult, dollars

    assert isinstance(result, ClaimResult)
    claim, env = result.claim, result.claim.envelope
    kind, label = ("reject", "REJECTED") if result.rejected else ("warn", "ACCEPTED WITH WARNINGS")
    head = E.h2(f"Claim {_html_claim.safe(claim.clm01)} ", E.span({"class": f"badge {kind}"},
                                                                   label))
    meta = E.p({"class": "meta"}, _html_claim.safe(
        f"{claim.file}  \u00b7  ISA13 {env.isa13} / GS06 {env.gs06} / ST02 {env.st02}  \u00b7  "
        f"837{env.kind}  \u00b7  payer {claim.payer_id}  \u00b7  billing NPI "
        f"{claim.billing_npi}  \u00b7  charge {dollars(result.charge)}"))
    return (f'<section class="claim {"rejected" if result.rejected else "warned"}" '
            f'id="seg-{claim.clm.ordinal}">' + _lxml(head) + _lxml(meta))


@pytest.mark.parametrize("value", HOSTILE[:-1] + ["\ufffe", "\ud800"])
def test_a_claims_head_is_lxmls(value: str) -> None:
    from tests.conftest import SAMPLES

    from scrub837.scrubber import Scrubber
    from scrub837.verdicts.results import TransactionResult

    data = (SAMPLES / "837p_defects.837").read_text("latin-1")
    clm01 = "".join(c for c in value if c not in "*:^~\r\n")[:30]
    data = data.replace("CLM*", f"CLM*{clm01}", 1)
    results = [c for t in Scrubber().results(data.encode("utf-8", "surrogatepass"), value)
               if isinstance(t, TransactionResult) for c in t.claims if c.findings]
    assert results
    for result in results:
        try:
            expected = _lxml_claim_head(result)
        except ValueError:  # lxml refuses the value: so does the head
            with pytest.raises(ValueError):
                _html_claim.claim_head(result, None)
            continue
        assert _html_claim.claim_head(result, None) == expected
