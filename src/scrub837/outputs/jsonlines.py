"""``scrub837 scrub --format json``: one JSON object per line on standard output, streamed.

Every finding of the file is in it, each once, and the last line says what the summary line,
``NAME.report.json`` and the exit code say:

* ``{"file", "transaction", "clm01", "verdict", "findings": [...]}`` one per claim, its
  findings including those of its transaction that reject it (a wrong SE01);
* ``{"file", "transaction", "finding"}`` one per finding of a transaction (ST/SE) itself,
  before its claims (an unsupported transaction has only these);
* ``{"file", "finding"}`` one per envelope finding (ISA/GS/GE/IEA, pyx12 notes);
* ``{"file", "failure": {"message", "segment", "offset"}}`` when the file cannot be read to the
  end (nothing after that point was read);
* ``{"file", "summary": {...}}`` last, the totals of ``report.json`` with its ``exit_code``.

Written a transaction at a time from the slim results (the same records the 277CA is written
from), so memory stays that of ``--out`` mode whatever the file's size."""

from __future__ import annotations

import json
from typing import TextIO

from scrub837.outputs.jsonreport import summary_dict
from scrub837.claims.reader import EnvelopeProblem, ReadFailure
from scrub837.verdicts.results import FileSummary, TransactionResult

_BATCH = 512  # claims per write


class JsonLinesWriter:
    def __init__(self, stream: TextIO, file: str) -> None:
        self.stream = stream
        self.file = file

    def _dump(self, record: dict[str, object]) -> str:
        return json.dumps(record) + "\n"

    def add(self, item: object) -> None:
        file = self.file
        if isinstance(item, TransactionResult):
            st02 = item.envelope.st02
            self.stream.writelines(self._dump({"file": file, "transaction": st02,
                                               "finding": f.to_dict()}) for f in item.findings)
            batch: list[str] = []
            for c in item.claims:
                batch.append(self._dump({
                    "file": file, "transaction": st02, "clm01": c.claim.clm01,
                    "verdict": c.verdict.value, "findings": [f.to_dict() for f in c.findings]}))
                if len(batch) >= _BATCH:
                    self.stream.writelines(batch)
                    batch = []
            self.stream.writelines(batch)
        elif isinstance(item, EnvelopeProblem):
            self.stream.writelines(self._dump({"file": file, "finding": f.to_dict()})
                                   for f in item.findings)
        elif isinstance(item, ReadFailure):
            self.stream.write(self._dump({"file": file, "failure": {
                "message": item.message, "segment": item.segment, "offset": item.offset}}))

    def close(self, summary: FileSummary) -> None:
        self.stream.write(self._dump({"file": self.file, "summary": summary_dict(summary)}))
