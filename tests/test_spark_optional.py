"""pyspark is an optional extra: the core, the CLI and the watcher never import it."""

from __future__ import annotations

import subprocess
import sys


def test_the_core_and_the_cli_do_not_import_pyspark() -> None:
    code = ("import sys, io, scrub837, scrub837.cli, scrub837.run.parallel, scrub837.watch.watcher\n"
            "scrub837.cli.run(['scrub', '--help'], io.StringIO(), io.StringIO())\n"
            "assert not [m for m in sys.modules if m.startswith('pyspark')]\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
