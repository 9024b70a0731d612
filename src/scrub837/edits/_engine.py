"""The edit engine: runs every edit on a claim and turns hits into located findings.

An edit is a callable ``(claim, ctx) -> Iterable[Hit]`` (see :class:`Edit`). It says *what* is
wrong (rule id, line, segment, element, template values); the engine adds severity, 277CA STC
codes and wording from the rule pack (with the payer overlay applied) and the full location.
One edit raising on odd data becomes an ``ENGINE_ERROR`` finding, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, TypeVar, runtime_checkable

from scrub837.claims.model import Claim, ServiceLine
from scrub837.findings import Finding, Location, Severity, Stc
from scrub837.rulebook import CodeRule, EditDef, PayerOverlay, Rulebook
from scrub837.x12.lexer import Segment


@dataclass(frozen=True, slots=True)
class Hit:
    """What an edit found. ``values`` fill the rule's message and fix templates."""

    rule_id: str
    line: ServiceLine | None = None
    segment: Segment | None = None
    element: str = ""
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EditContext:
    """Everything an edit may consult besides the claim."""

    rulebook: Rulebook
    overlay: PayerOverlay
    kind: str  # "P" (837P) or "I" (837I)
    drug_lines: tuple[ServiceLine, ...]
    today: date

    def rule(self, code: str) -> CodeRule | None:
        return self.rulebook.code(code)


@runtime_checkable
class Edit(Protocol):
    """A third-party edit (entry-point group ``scrub837.edits``).

    ``definitions`` gives severity, STC codes and wording for each rule id the edit may emit
    that is not in the rule pack.
    """

    @property
    def name(self) -> str: ...

    @property
    def definitions(self) -> Mapping[str, EditDef]: ...

    def __call__(self, claim: Claim, ctx: EditContext) -> Iterable[Hit]: ...


_F = TypeVar("_F", bound=Callable[..., Iterable[Hit]])


def drug_lines_only(func: _F) -> _F:
    """Marks a built-in edit that finds nothing on a claim without drug lines (it reads only
    ``ctx.drug_lines``, and nothing before that loop can fail): the engine skips it for such
    claims, the short path of a claim with no drug line."""
    func.__dict__["drug_lines_only"] = True
    return func


class _Safe(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(template: str, values: Mapping[str, object]) -> str:
    if not template:
        return ""
    return template.format_map(values if isinstance(values, _Safe) else _Safe(values))


ENGINE_ERROR = "ENGINE_ERROR"
_ENGINE_ERROR_DEF = EditDef(
    rule_id=ENGINE_ERROR,
    severity=Severity.REJECT,
    stc=(Stc("A3", "21"),),
    title="An edit could not check this claim",
    message="edit {edit} failed on this claim ({error}); the claim could not be checked",
    fix="check the claim's segments for unusual values; report the problem if they look right",
    source="scrub837",
    example="",
)


@dataclass(frozen=True, slots=True)
class NamedEdit:
    """A built-in edit function with a name (its rule definitions live in the rule pack)."""

    name: str
    func: object
    definitions: Mapping[str, EditDef] = field(default_factory=dict)

    def __call__(self, claim: Claim, ctx: EditContext) -> Iterable[Hit]:
        return self.func(claim, ctx)  # type: ignore[operator, no-any-return]


class Engine:
    """Runs edits over claims with one rule book. Safe to share between threads: it holds
    no per-claim state."""

    def __init__(self, rulebook: Rulebook, edits: Sequence[Edit], *, today: date | None = None):
        self.rulebook = rulebook
        self.edits = tuple(edits)
        self.today = today or date.today()
        self._extra: dict[str, EditDef] = {}
        for edit in self.edits:
            self._extra.update(edit.definitions)
        # a built-in edit is called as its function (one frame less per edit and claim), and
        # one marked drug_lines_only is skipped on a claim without drug lines
        self._calls = tuple(
            (edit, edit.func, bool(getattr(edit.func, "drug_lines_only", False)))
            if isinstance(edit, NamedEdit) else (edit, edit, False) for edit in self.edits)

    def context(self, claim: Claim) -> EditContext:
        rb = self.rulebook
        drug = tuple(line for line in claim.lines if rb.is_drug_code(line.code))
        return EditContext(rb, rb.overlay_for(claim.payer_id), claim.kind or "P", drug, self.today)

    def check(self, claim: Claim) -> tuple[Finding, ...]:
        ctx = self.context(claim)
        out: list[Finding] = []
        no_drug = not ctx.drug_lines
        for edit, call, drug_only in self._calls:
            if drug_only and no_drug:
                continue
            try:
                hits = list(call(claim, ctx))  # type: ignore[operator]
            except Exception as exc:  # one edit failing is a finding, never a crash
                out.append(self._finding(
                    Hit(ENGINE_ERROR, values={"edit": edit.name, "error": type(exc).__name__}),
                    claim, ctx.overlay, _ENGINE_ERROR_DEF))
                continue
            for hit in hits:
                definition = self._definition(hit.rule_id, ctx.overlay)
                if definition is not None:
                    out.append(self._finding(hit, claim, ctx.overlay, definition))
        return tuple(out)

    def finding(self, hit: Hit, claim: Claim) -> Finding | None:
        """A located finding for a hit found outside the edits (None when switched off)."""
        overlay = self.rulebook.overlay_for(claim.payer_id)
        definition = self._definition(hit.rule_id, overlay)
        return None if definition is None else self._finding(hit, claim, overlay, definition)

    def _definition(self, rule_id: str, overlay: PayerOverlay) -> EditDef | None:
        if rule_id in self._extra and self.rulebook.edit(rule_id, overlay) is None:
            extra = self._extra[rule_id]
            severity = overlay.severity.get(rule_id, extra.severity)
            if rule_id in overlay.severity and severity is None:
                return None
            return extra if severity == extra.severity else _with_severity(extra, severity)
        return self.rulebook.edit(rule_id, overlay)

    def _finding(self, hit: Hit, claim: Claim, overlay: PayerOverlay,
                 definition: EditDef) -> Finding:
        line = hit.line
        seg = hit.segment or (line.sv if line is not None else None) or claim.clm
        values = _Safe({"code": line.code if line is not None else "", **hit.values})  # 3 uses
        return Finding(
            rule_id=hit.rule_id,
            severity=definition.severity,
            message=_render(definition.message, values),
            location=locate(claim, line, seg, hit.element),
            stc=definition.stc,
            fix=_render(definition.fix, values),
            source=_render(definition.source, values),
            line_level=line is not None,
            title=definition.title,
        )


def _with_severity(definition: EditDef, severity: Severity | None) -> EditDef:
    from dataclasses import replace

    return replace(definition, severity=severity or definition.severity)


def locate(claim: Claim, line: ServiceLine | None, seg: Segment, element: str = "") -> Location:
    env = claim.envelope
    path = claim.hl_path
    if seg.ordinal < claim.clm.ordinal:  # a segment of the provider/subscriber/patient loops
        path = _hl_loop_path(claim, seg)
    elif line is not None:
        path += f"/2400[{line.index}]"
        if line.drug is not None and seg.ordinal >= line.drug.lin.ordinal and seg.id in (
                "LIN", "CTP", "REF"):
            path += "/2410"
    path += f"/{element or seg.id}"
    return Location(
        file=claim.file,
        isa13=env.isa13,
        gs06=env.gs06,
        st02=env.st02,
        clm01=claim.clm01,
        lx=line.line_number if line is not None else "",
        ref_6r=line.line_control if line is not None else "",
        segment=seg.ordinal,
        span=(seg.start, seg.end),
        path=path,
        element=element,
    )


_NM1_LOOPS = {"85": "2010AA", "87": "2010AB", "PE": "2010AC", "IL": "2010BA", "PR": "2010BB",
              "QC": "2010CA"}


def _hl_loop_path(claim: Claim, seg: Segment) -> str:
    """``2000A/2000B/2010BA`` for a segment of the claim's HL loops (before its CLM)."""
    path = ""
    for level, block in (("2000A", claim.provider), ("2000B", claim.subscriber),
                         ("2000C", claim.patient)):
        if block is None:
            continue
        path += ("/" if path else "") + level
        if block.segments[0].ordinal <= seg.ordinal <= block.segments[-1].ordinal:
            sub = ""
            for s in block.segments:
                if s.ordinal > seg.ordinal:
                    break
                if s.id == "NM1":
                    sub = _NM1_LOOPS.get(s.get(1), "")
            return path + (f"/{sub}" if sub else "")
    return path
