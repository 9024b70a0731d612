from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "x12_samples"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say in plain words why tests that need ``../shared`` were skipped."""
    skipped = terminalreporter.stats.get("skipped", [])
    needing = [r for r in skipped if "shared" in str(getattr(r, "longrepr", ""))]
    if needing and not SHARED.is_dir():
        terminalreporter.write_line(
            f"note: {len(needing)} tests were skipped because the project's shared data folder "
            f"was not found at {SHARED}. That folder (the full CMS files and the public 837 "
            "corpus, too large for the repository) sits beside the repository; CI lays it "
            "there. Every other test ran; see README.md, 'Set-up'.")
