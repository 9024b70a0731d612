"""A measurement, not the product: how fast could the checks of ``scrub --out`` be if they were
written as one fused pass over each claim's text? It answers the question ``floor.py`` leaves:
whether what is left of issue 14's 0.25x budget, after the reader and the outputs, is enough
for the lines' values and every edit.

    python benchmarks/fused_prototype.py FILE [--repeat 3]

The claims come from the project's lazy reader (each claim's text as one slice; ``floor.py``
times that reader); the clock then runs over one pass that, for each claim:

- cuts its text into segments and splits into elements only the ones a check reads (CLM, HI,
  REF, DTP, LX, SV1/SV2, LIN, CTP; an NM1, N3, N4, ... is looked at by its id only);
- runs the structure checks of every claim: the DTP formats and dates not in the future (a
  memo by the DTP's text), CLM02 against the sum of the lines' charges (a memo of numbers by
  their text), REF*6R repeated, control and non-ASCII characters (the project's test);
- for each drug line (the rule book's drug codes), with the code's facts read once per code:
  validity on the date of service, the NDC present when required, SV107 pointers, the
  pointed diagnoses against the code's list, prior authorisation and place of service from the
  payer overlay, JW and JZ together, the data period by date (a memo), and the line-local edits
  (units, modifiers, NDC form, NDC against the code and the quantity, unlisted), asked once per
  set of a line's values as the project's engine does (the project's own edit functions, on a
  one-line context, when a set is new);
- groups the drug lines by code and date for the MUE (summed units) and JW/JZ waste edits;
- every ICD-10-CM code of the claim against the code list (a memo);
- makes each hit a tuple: rule id, line, segment ordinal, element.

It makes no finding text, no location object and no output (``floor.py`` counts those). Its
hits by rule are printed beside the project's own findings on the same file (from
``scrub --out``), so that it is seen to do the project's work.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from scrub837.api import iter_items
from scrub837.claims.model import Claim
from scrub837.edits import Engine, EditContext
from scrub837.edits.diagnosis import icd10_status
from scrub837.edits.ndc import ndc_required
from scrub837.edits.structure import _answer, _text_clean
from scrub837.edits.period import _tables_outside
from scrub837.run import _runtime
from scrub837.scrubber import Scrubber

from _steps import file_parser, tokenize  # benchmarks/_steps.py

_ZERO = Decimal(0)


def number(memo: dict[str, Decimal | None], text: str) -> Decimal | None:
    found = memo.get(text, False)
    if found is False:
        try:
            value: Decimal | None = Decimal(text) if text else None
        except (InvalidOperation, ValueError):
            value = None
        if value is not None and not value.is_finite():
            value = None
        found = memo[text] = value
    return found  # type: ignore[return-value]


def day(text: str, memo: dict[str, date | None]) -> date | None:
    found = memo.get(text, False)
    if found is False:
        found = memo[text] = (date(int(text[:4]), int(text[4:6]), int(text[6:8]))
                              if len(text) == 8 and text.isdigit() else None)
    return found  # type: ignore[return-value]


class Fused:
    def __init__(self, scrubber: Scrubber) -> None:
        self.engine: Engine = scrubber.engine
        self.rb = self.engine.rulebook
        self.today = self.engine.today
        self.local = [call for edit, call, _ in self.engine._calls
                      if getattr(call, "line_local", False)]
        self.facts: dict[str, tuple[object, ...] | None] = {}
        self.verdicts: dict[tuple[object, ...], tuple[str, ...]] = {}
        self.numbers: dict[str, Decimal | None] = {}
        self.days: dict[str, date | None] = {}
        self.dtps: dict[str, dict[str, object]] = {}
        self.period: dict[tuple[str, str, bool], str] = {}
        self.valid: dict[str, bool] = {}
        self.pointed: dict[tuple[str, str, tuple[str, ...]], tuple[bool, bool]] = {}
        self.dx: dict[str, tuple[list[str], list[str]]] = {}

    def _fact(self, code: str, kind: str) -> tuple[object, ...] | None:
        """A code's facts (None: no drug code), read once and kept in ``facts``."""
        found: tuple[object, ...] | None = None
        rb = self.rb
        if rb.is_drug_code(code):
            rule = rb.code(code)
            prefixes = tuple(p.replace(".", "") for p in rule.dx_supported) if rule else ()
            found = (rule, rb.mue(code, kind), prefixes, rule.container if rule else "",
                     bool(rule and rule.unlisted))
        self.facts[code + kind] = found
        return found

    def _verdict(self, claim: Claim, at: int, key: tuple[object, ...], overlay: object,
                 kind: str) -> tuple[str, ...]:
        """A new set of a line's values: the project's line-local edits on this line alone,
        their rule ids kept in ``verdicts``."""
        line = claim.lines[at]
        ctx = EditContext(self.rb, overlay, kind, (line,), self.today)  # type: ignore[arg-type]
        found = self.verdicts[key] = tuple(
            hit.rule_id for call in self.local for hit in call(claim, ctx))
        return found

    def over(self, claims: list[Claim]) -> list[tuple[str, int, int, str]]:
        """The hits of every claim, in order."""
        hits: list[tuple[str, int, int, str]] = []
        for claim in claims:
            self.claim(claim, hits)
        return hits

    def claim(self, claim: Claim, out: list[tuple[str, int, int, str]]) -> None:
        delims = claim.clm.delims
        sep, comp, term = delims.element, delims.component, delims.segment
        text = claim.text
        kind = claim.header.envelope.kind or "P"
        ordinal = claim.clm.ordinal
        clm = claim.clm.elements
        numbers, days = self.numbers, self.days
        today = self.today
        dx: list[str] = []
        auth = False
        lines: list[list[object]] = []  # [sv, dos text, ref6r, lin, ctp, ordinal, modifiers]
        line: list[object] | None = None
        controls: list[str] = []
        charges = _ZERO
        brk = text.find(term) + 1  # just after the CLM's terminator
        end = term + ("\r\n" if text.startswith("\r\n", brk) else
                      "\n" if text.startswith("\n", brk) else "")
        if text.count(term) == text.count(end) + (not text.endswith(end)):
            segs = text[:-1].split(end) if not text.endswith(end) else text.split(end)[:-1]
        else:  # not evenly broken: each segment stripped
            segs = [seg.lstrip("\r\n ") for seg in text.split(term)]
        dtps = self.dtps.setdefault(kind, {})  # type: ignore[assignment,arg-type]
        for i, seg in enumerate(segs):
            c = seg[:1]
            if c == "D":  # DTP: its answer and, for a 472, its date, once per text
                found = dtps.get(seg)  # type: ignore[call-overload]
                if found is None:
                    elements = seg.split(sep)
                    found = dtps[seg] = (  # type: ignore[index]
                        _answer(kind, tuple(elements)) or "",
                        elements[3] if elements[1] == "472" and len(elements) > 3 else None)
                answer = found[0]
                if answer and (answer.__class__ is str or answer > today):
                    out.append(("CLAIM_DATE", -1, ordinal + i, "DTP03"))
                if line is not None and found[1] is not None:
                    line[1] = found[1]
            elif c == "S":  # SV1, SV2
                sv = seg.split(sep)
                line[0] = sv  # type: ignore[index]
                charge = number(numbers, sv[3] if seg[2] == "2" else sv[2])
                if charge:
                    charges += charge
            elif c == "L":
                if seg[1] == "X":  # LX
                    line = [None, "", "", None, None, ordinal + i, ()]
                    lines.append(line)
                elif line is not None:  # LIN (split when a check needs it)
                    line[3] = seg
            elif c == "R":  # REF
                if seg[4:6] == "6R" and line is not None:
                    line[2] = seg[7:]
                    controls.append(seg[7:])
                elif seg[4:6] == "G1" and line is None:
                    auth = True
            elif c == "C":
                if i and line is not None:  # CTP (i 0 is the CLM)
                    line[4] = seg
            elif c == "H":  # HI: its codes and the positions of those not billable, once per text
                found = self.dx.get(seg)
                if found is None:
                    codes = [value.partition(comp)[2] for value in seg.split(sep)[1:]]
                    found = self.dx[seg] = (codes, [f"HI{n:02d}" for n, code in
                                                    enumerate(codes, start=1)
                                                    if icd10_status(code) != "billable"])
                dx.extend(found[0])
                for element in found[1]:
                    out.append(("DX_CODE", -1, ordinal + i, element))
        if number(numbers, clm[2] if len(clm) > 2 else "") != charges:
            out.append(("CLAIM_CHARGE_MISMATCH", -1, ordinal, "CLM02"))
        if len(set(controls)) != len(controls):
            out.append(("LINE_CONTROL_DUPLICATE", -1, ordinal, "REF02"))
        if not _text_clean(text, term):
            out.append(("BAD_CHARACTER", -1, ordinal, ""))
        overlay = self.engine._overlay_for(claim)
        groups: dict[tuple[str, str], list[tuple[int, list[object], tuple[object, ...]]]] = {}
        period_done = False
        dx_key = tuple(dx)
        valid, pointed, period = self.valid, self.pointed, self.period
        facts_of = self.facts
        overlay_id = id(overlay)  # the overlays live as long as the rule book
        for at, ln in enumerate(lines):
            sv = ln[0]
            if sv is None:
                continue
            inst = sv[0] == "SV2"  # type: ignore[index]
            composite = sv[2] if inst else sv[1]  # type: ignore[index]
            proc = composite.split(comp)  # type: ignore[union-attr]
            code = proc[1] if len(proc) > 1 else ""
            facts = facts_of.get(code + kind, False)
            if facts is False:
                facts = self._fact(code, kind)
            if facts is None:
                continue
            rule, mue, prefixes, container, unlisted = facts  # type: ignore[misc]
            mods = tuple(m for m in proc[2:6] if m) if len(proc) > 2 else ()
            ln[6] = mods
            where = ln[5]
            lin, ctp = ln[3], ln[4]
            units_text = sv[5 if inst else 4] if len(sv) > 4 else ""  # type: ignore[arg-type]
            key = (composite, inst, units_text, sv[4 if inst else 3] if len(sv) > 3 else "",  # type: ignore[arg-type]
                   lin, ctp, overlay_id, kind)
            found = self.verdicts.get(key)
            if found is None:
                found = self._verdict(claim, at, key, overlay, kind)
            for rule_id in found:
                out.append((rule_id, at, where, ""))  # type: ignore[arg-type]
            first = ln[1].split("-")[0] if ln[1] else ""  # type: ignore[union-attr]
            vkey = code + first
            ok = valid.get(vkey)
            if ok is None:
                dos = day(first, days)
                ok = valid[vkey] = not (
                    rule is None or not rule.in_cms or dos is None or (  # type: ignore[attr-defined]
                        rule.effective and dos < rule.effective) or (  # type: ignore[attr-defined]
                        rule.terminated and dos > rule.terminated))  # type: ignore[attr-defined]
            if not ok:
                out.append(("CODE_INVALID", at, where, "SV101-2"))
            if lin is None and not unlisted and ndc_required(_Line(code), _Ctx(self, overlay, kind),
                                                             claim):
                out.append(("NDC_MISSING", at, where, ""))
            if not inst:
                sv7 = sv[7] if len(sv) > 7 else ""  # type: ignore[index]
                pkey = (code, sv7, dx_key)
                answer = pointed.get(pkey)
                if answer is None:
                    pointers = [p for p in sv7.split(comp) if p] if sv7 else []  # type: ignore[union-attr]
                    count = len(dx)
                    answer = pointed[pkey] = (
                        not pointers or any(not p.isdigit() or not 1 <= int(p) <= count
                                            for p in pointers),
                        bool(prefixes) and not any(
                            dx[int(p) - 1].startswith(prefixes)  # type: ignore[arg-type]
                            for p in pointers if p.isdigit() and 0 < int(p) <= count))
                if answer[0]:
                    out.append(("DX_POINTER_INVALID", at, where, "SV107"))
                if answer[1]:
                    out.append(("DX_NOT_SUPPORTED", at, where, "SV107"))
            if code in overlay.prior_auth and not auth:
                out.append(("AUTH_MISSING", at, where, ""))
            allowed = overlay.pos_allowed.get(code)
            if allowed and (sv[5] if not inst else clm[5]) not in allowed:  # type: ignore[index]
                out.append(("PAYER_POS_NOT_ALLOWED", at, where, "SV105"))
            if "JW" in mods and "JZ" in mods:
                out.append(("MOD_JW_JZ_BOTH", at, where, "SV101-4"))
            if not period_done:
                tkey = (kind, first, lin is not None)
                tables = period.get(tkey)  # type: ignore[call-overload]
                if tables is None:
                    dos = day(first, days)
                    tables = period[tkey] = "" if dos is None else _tables_outside(  # type: ignore[index]
                        self.rb.data, kind, dos, lin is not None)
                if tables:
                    period_done = True
                    out.append(("DATA_PERIOD", at, where, "DTP03"))
            units = number(numbers, units_text)  # type: ignore[arg-type]
            member = (at, ln, (units, mue, container, first))
            group = groups.get((code, first))
            if group is None:
                groups[(code, first)] = [member]
            else:
                group.append(member)
        since = self.rb.settings.jw_jz_required_from
        for (code, _), members in groups.items():
            total = _ZERO
            for at, ln, (units, mue, container, dos) in members:
                total += units if units is not None and units > 0 else _ZERO
            mue = members[0][2][1]
            limit = overlay.quantity_limits.get(code)
            if mue is not None and mue.mai != 1 and (limit is None or mue.units < limit):  # type: ignore[attr-defined]
                limit = mue.units  # type: ignore[attr-defined]
            if limit is not None and total > limit:
                out.append(("UNITS_OVER_MAX", members[-1][0], members[-1][1][5], "SV104"))  # type: ignore[arg-type]
            container = members[0][2][2]
            waste = [m for m in members if "JW" in m[1][6]]  # type: ignore[operator]
            if container == "multi-dose":
                for m in waste:
                    out.append(("MOD_JW_MULTIDOSE", m[0], m[1][5], ""))  # type: ignore[arg-type]
                continue
            if waste and len(waste) == len(members):
                for m in waste:
                    out.append(("MOD_JW_ORPHAN", m[0], m[1][5], ""))  # type: ignore[arg-type]
            if container == "single-dose" and not waste:
                for m in members:
                    dos = day(m[2][3], self.days)  # type: ignore[arg-type]
                    if dos is not None and dos >= since and "JZ" not in m[1][6]:  # type: ignore[operator]
                        out.append(("MOD_WASTE_MISSING", m[0], m[1][5], ""))  # type: ignore[arg-type]


class _Line:  # what ndc_required reads of a line
    def __init__(self, code: str) -> None:
        self.code = code


class _Ctx:  # what ndc_required reads of a context
    def __init__(self, fused: Fused, overlay: object, kind: str) -> None:
        self.overlay, self.rulebook, self.kind = overlay, fused.rb, kind

    def rule(self, code: str) -> object:
        return self.rulebook.code(code)


def main() -> None:
    args = file_parser(__doc__, repeat=3).parse_args()
    _runtime.tune()
    data = args.file.read_bytes()
    claims = [c for c in iter_items(data, args.file.name, lazy=True) if isinstance(c, Claim)]
    fused = Fused(Scrubber())
    best = tok = float("inf")
    hits: list[tuple[str, int, int, str]] = []
    for _ in range(args.repeat):  # the tokenizer and the pass in turn (a busy machine slows both)
        start = time.perf_counter()
        tokenize(args.file)
        tok = min(tok, time.perf_counter() - start)
        start = time.perf_counter()
        hits = fused.over(claims)
        best = min(best, time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "scrub837", "scrub", str(args.file), "--out", tmp],
                       capture_output=True, check=False)
        report = json.loads((Path(tmp) / f"{args.file.name}.report.json").read_text("utf-8"))
    theirs: collections.Counter[str] = collections.Counter()
    for txn in report["transactions"]:
        for claim in txn["claims"]:
            theirs.update(f["rule_id"] for f in claim["findings"])
    ours = collections.Counter(h[0] for h in hits)
    print(f"{args.file.name}: {len(claims):,} claims; the fused pass {best:.3f} s, "
          f"{best / len(claims) * 1e6:.1f} us a claim, {best / tok:.2f} tokenizers "
          f"(the tokenizer {tok:.3f} s; best of {args.repeat})")
    print("  hits by rule: the prototype's / the project's findings")
    for rule in sorted(set(ours) | set(theirs)):
        print(f"    {rule:28s} {ours.get(rule, 0):7,} / {theirs.get(rule, 0):7,}")


if __name__ == "__main__":
    main()
