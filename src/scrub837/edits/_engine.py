"""The edit engine: runs every edit on a claim and turns hits into located findings.

An edit is a callable ``(claim, ctx) -> Iterable[Hit]`` (see :class:`Edit`). It says *what* is
wrong (rule id, line, segment, element, template values); the engine adds severity, 277CA STC
codes and wording from the rule pack (with the payer overlay applied) and the full location.
One edit raising on odd data becomes an ``ENGINE_ERROR`` finding, never a crash.

The hot path (every claim of every file passes here): built-in edits are called as their
functions and return lists; the drug-line edits are skipped on a claim without drug lines;
each drug line's values are parsed once (:class:`~scrub837.edits._lines.DrugLine`); the
line-local edits (:func:`line_local`) run on a claim only when one of its drug lines has
values they found something on before; a rule's definition is looked up once per payer
overlay and its rendered texts are kept for recent identical values; findings and locations
(:func:`~scrub837.edits._locate.locate`) are named tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import NamedTuple, Protocol, TypeVar, runtime_checkable

from scrub837._memo import IdentityMemo
from scrub837.claims.model import Claim, HlBlock, ServiceLine, TransactionHeader
from scrub837.edits._lines import DrugLine, Groups, by_day_and_span
from scrub837.edits._locate import locate
from scrub837.findings import Finding, Severity, Stc
from scrub837.rulebook import CodeRule, EditDef, PayerOverlay, Rulebook
from scrub837.x12.lexer import Segment

_NO_VALUES: Mapping[str, object] = MappingProxyType({})


class Hit(NamedTuple):
    """What an edit found. ``values`` fill the rule's message and fix templates."""

    rule_id: str
    line: ServiceLine | None = None
    segment: Segment | None = None
    element: str = ""
    values: Mapping[str, object] = _NO_VALUES


@dataclass(frozen=True, slots=True)
class EditContext:
    """Everything an edit may consult besides the claim. ``drugs`` holds one
    :class:`~scrub837.edits._lines.DrugLine` per drug line (same order), the values the
    built-in edits read, parsed once; it follows ``drug_lines``."""

    rulebook: Rulebook
    overlay: PayerOverlay
    kind: str  # "P" (837P) or "I" (837I)
    drug_lines: tuple[ServiceLine, ...]
    today: date
    drugs: tuple[DrugLine, ...] = field(init=False, repr=False, compare=False)
    _groups: tuple[Groups, Groups] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rulebook = self.rulebook
        object.__setattr__(self, "drugs", tuple(
            [DrugLine(line, rulebook) for line in self.drug_lines]))
        object.__setattr__(self, "_groups", None)

    def rule(self, code: str) -> CodeRule | None:
        return self.rulebook.code(code)

    def by_code_and_date(self, *, span: bool = False) -> Groups:
        """:func:`~scrub837.edits._lines.by_code_and_date` of :attr:`drugs` (not to be
        changed): grouped once per claim for the two edits that group (modifiers.jw_jz by
        day, units.units_over_day_max by span), and once for both when no line has a date
        span."""
        groups = self._groups
        if groups is None:
            groups = by_day_and_span(self.drugs)
            object.__setattr__(self, "_groups", groups)
        return groups[1] if span else groups[0]


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


def line_local(func: _F) -> _F:
    """Marks a built-in drug-line edit whose hits on a claim come from its drug lines one by
    one, each from that line's values alone (:meth:`DrugLine.values`, with the context's
    rule book, overlay and kind): the engine skips it on a claim whose every drug line has
    values it found nothing on before (asked once per values and overlay, on a context
    holding that line alone). It is also :func:`drug_lines_only`."""
    func.__dict__["line_local"] = True
    return drug_lines_only(func)


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


_MEMO_SIZE = 512  # rendered texts kept per rule (cleared when full)
_Texts = tuple[str, str, str]  # message, fix, source


class _Rule:
    """A rule's definition (for one payer overlay), with its recently rendered texts."""

    __slots__ = ("definition", "texts")

    def __init__(self, definition: EditDef) -> None:
        self.definition = definition
        self.texts: dict[tuple[object, ...], _Texts] = {}


_new = tuple.__new__


class Engine:
    """Runs edits over claims with one rule book. Safe to share between threads: it holds
    no per-claim state (only bounded memos of answers that depend on the rule book alone)."""

    def __init__(self, rulebook: Rulebook, edits: Sequence[Edit], *, today: date | None = None):
        self.rulebook = rulebook
        self.edits = tuple(edits)
        self.today = today or date.today()
        self._extra: dict[str, EditDef] = {}
        for edit in self.edits:
            self._extra.update(edit.definitions)
        # a built-in edit is called as its function (one frame less per edit and claim), and
        # one marked drug_lines_only is skipped on a claim without drug lines; the hits of the
        # built-in edits carry plain strings as values (their texts are memoised as they are)
        calls = tuple((edit, edit.func, _builtin(edit.func)) if isinstance(edit, NamedEdit)
                      else (edit, edit, False) for edit in self.edits)
        self._calls: tuple[tuple[Edit, object, bool], ...] = calls
        self._plain_calls = tuple(
            (edit, call, builtin) for edit, call, builtin in calls
            if not getattr(call, "drug_lines_only", False) or not isinstance(edit, NamedEdit))
        #: the line-local edits (see line_local), by position in _calls: bit n of a verdict
        #: is _calls[_local[n]]
        self._local = tuple(at for at, (edit, call, _) in enumerate(calls)
                            if isinstance(edit, NamedEdit) and getattr(call, "line_local", False))
        #: by overlay (id), kind and a drug line's values: the overlay, and which line-local
        #: edits find something on such a line
        self._verdicts: dict[tuple[int, str, tuple[object, ...]], tuple[PayerOverlay, int]] = {}
        #: the edits run on a claim with drug lines, by the verdicts of its lines (or'ed)
        self._masked: dict[int, tuple[tuple[Edit, object, bool], ...]] = {}
        self._drug_code: dict[str, bool] = {}
        self._overlays: IdentityMemo[HlBlock, PayerOverlay] = IdentityMemo()
        self._kinds: IdentityMemo[TransactionHeader, str] = IdentityMemo(16)
        self._rules: dict[tuple[str, int], tuple[PayerOverlay, _Rule | None]] = {}
        self._plain_contexts: dict[tuple[int, str], EditContext] = {}

    def _is_drug(self, code: str) -> bool:
        known = self._drug_code
        is_drug = known.get(code)
        if is_drug is None:
            if len(known) >= 4096:
                known.clear()
            is_drug = known[code] = self.rulebook.is_drug_code(code)
        return is_drug

    def has_drug_lines(self, claim: Claim) -> bool:
        """A line of the claim bills a drug (its procedure code is one the rule book knows
        as a drug): the drug edits will read all of it."""
        is_drug = self._is_drug
        return any(is_drug(code) for code in claim.procedure_codes())

    def context(self, claim: Claim) -> EditContext:
        rb = self.rulebook
        is_drug = self._is_drug
        # a claim without drug lines builds none of its lines
        at_drug = [at for at, code in enumerate(claim.procedure_codes()) if is_drug(code)]
        lines = claim.lines if at_drug else ()
        drug = [lines[at] for at in at_drug]
        header = claim.header
        kind = self._kinds.get(header)
        if kind is None:
            kind = claim.kind or "P"
            self._kinds.put(header, kind)
        overlay = self._overlay_for(claim)
        if drug:
            return EditContext(rb, overlay, kind, tuple(drug), self.today)
        # a claim without drug lines: one context per overlay and kind (a value: frozen)
        key = (id(overlay), kind)
        ctx = self._plain_contexts.get(key)
        if ctx is None or ctx.overlay is not overlay:
            if len(self._plain_contexts) >= 64:
                self._plain_contexts.clear()
            ctx = self._plain_contexts[key] = EditContext(rb, overlay, kind, (), self.today)
        return ctx

    def _overlay_for(self, claim: Claim) -> PayerOverlay:
        subscriber = claim.subscriber  # the payer (2010BB) is in the subscriber's loop
        overlay = self._overlays.get(subscriber)
        if overlay is None:
            overlay = self.rulebook.overlay_for(claim.payer_id)
            self._overlays.put(subscriber, overlay)
        return overlay

    def check(self, claim: Claim) -> tuple[Finding, ...]:
        ctx = self.context(claim)
        overlay = ctx.overlay
        out: list[Finding] = []
        if not ctx.drug_lines:
            calls = self._plain_calls
        else:
            calls = self._drug_calls(claim, ctx) if self._local else self._calls
        for edit, call, builtin in calls:
            try:
                hits = call(claim, ctx)  # type: ignore[operator]
                if hits.__class__ is not list:
                    hits = list(hits)
            except Exception as exc:  # one edit failing is a finding, never a crash
                out.append(self._finding(
                    Hit(ENGINE_ERROR, values={"edit": edit.name, "error": type(exc).__name__}),
                    claim, _Rule(_ENGINE_ERROR_DEF), False))
                continue
            for hit in hits:
                rule = self._rule(hit.rule_id, overlay)
                if rule is not None:
                    out.append(self._finding(hit, claim, rule, builtin))
        return tuple(out)

    def _drug_calls(self, claim: Claim, ctx: EditContext,
                    ) -> tuple[tuple[Edit, object, bool], ...]:
        """The edits to run on a claim with drug lines: all but the line-local ones that
        found nothing on lines with the values of each of its drug lines."""
        overlay = ctx.overlay
        kind = ctx.kind
        verdicts = self._verdicts
        hit = 0
        for drug in ctx.drugs:
            key = (id(overlay), kind, drug.values())
            found = verdicts.get(key)
            if found is None or found[0] is not overlay:
                found = (overlay, self._probe(claim, ctx, drug))
                if len(verdicts) >= 4096:
                    verdicts.clear()
                verdicts[key] = found
            hit |= found[1]
        calls = self._masked.get(hit)
        if calls is None:  # at most one entry for each subset of the line-local edits
            skip = {at for bit, at in enumerate(self._local) if not hit & (1 << bit)}
            calls = self._masked[hit] = tuple(
                call for at, call in enumerate(self._calls) if at not in skip)
        return calls

    def _probe(self, claim: Claim, ctx: EditContext, drug: DrugLine) -> int:
        """Which line-local edits find something on this drug line alone (bit n for
        ``_local[n]``); one that fails counts as finding something (it then runs on the
        claim, and its failure is reported there)."""
        alone = EditContext(ctx.rulebook, ctx.overlay, ctx.kind, (drug.line,), ctx.today)
        found = 0
        for bit, at in enumerate(self._local):
            try:
                if list(self._calls[at][1](claim, alone)):  # type: ignore[operator]
                    found |= 1 << bit
            except Exception:
                found |= 1 << bit
        return found

    def finding(self, hit: Hit, claim: Claim) -> Finding | None:
        """A located finding for a hit found outside the edits (None when switched off)."""
        rule = self._rule(hit.rule_id, self._overlay_for(claim))
        return None if rule is None else self._finding(hit, claim, rule)

    def _rule(self, rule_id: str, overlay: PayerOverlay) -> _Rule | None:
        """The rule's definition for this overlay (None when unknown or switched off), looked
        up once per rule and overlay (the memo holds the overlay, so its id stays its own)."""
        key = (rule_id, id(overlay))
        found = self._rules.get(key)
        if found is not None and found[0] is overlay:
            return found[1]
        definition = self._definition(rule_id, overlay)
        rule = None if definition is None else _Rule(definition)
        if len(self._rules) >= 4096:  # plugins may make up rule ids
            self._rules.clear()
        self._rules[key] = (overlay, rule)
        return rule

    def _definition(self, rule_id: str, overlay: PayerOverlay) -> EditDef | None:
        if rule_id in self._extra and self.rulebook.edit(rule_id, overlay) is None:
            extra = self._extra[rule_id]
            severity = overlay.severity.get(rule_id, extra.severity)
            if rule_id in overlay.severity and severity is None:
                return None
            return extra if severity == extra.severity else _with_severity(extra, severity)
        return self.rulebook.edit(rule_id, overlay)

    def _finding(self, hit: Hit, claim: Claim, rule: _Rule, builtin: bool = False) -> Finding:
        rule_id, line, seg, element, values = hit
        if line is None:
            code = ""
            seg = seg or claim.clm
        else:
            code = line.code
            seg = seg or line.sv or claim.clm
        texts = _texts(rule, code, values, builtin)
        definition = rule.definition
        return _new(Finding, (rule_id, definition.severity, texts[0],
                              locate(claim, line, seg, element), definition.stc, texts[1],
                              texts[2], line is not None, (), definition.title))


def _texts(rule: _Rule, code: str, values: Mapping[str, object], plain: bool) -> _Texts:
    """The rule's message, fix and source for these values: rendered, or as rendered for the
    same values before. Keyed only by plain strings (``1`` and ``1.0`` are equal keys that
    render apart): ``plain`` says the edit is built in and gives only strings."""
    key: tuple[object, ...] | None = (code, *values.items())
    if not plain:
        for value in values.values():
            if value.__class__ is not str:
                key = None
                break
    memo = rule.texts
    if key is not None:
        found = memo.get(key)
        if found is not None:
            return found
    definition = rule.definition
    full = _Safe({"code": code, **values})  # 3 uses
    texts = (_render(definition.message, full), _render(definition.fix, full),
             _render(definition.source, full))
    if key is not None:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = texts
    return texts


def _builtin(func: object) -> bool:
    """A function of the built-in edit modules (its hits' values are plain strings)."""
    return getattr(func, "__module__", "").startswith("scrub837.edits.")


def _with_severity(definition: EditDef, severity: Severity | None) -> EditDef:
    from dataclasses import replace

    return replace(definition, severity=severity or definition.severity)
