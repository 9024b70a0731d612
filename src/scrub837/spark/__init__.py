"""scrub837 on Apache Spark (``pip install 'scrub837[spark]'``): batch scrubs of many files
(:func:`scrub_files`) and Structured Streaming over a landing folder (:func:`scrub_stream`),
writing the same outputs as ``scrub837 scrub`` and answering tables of verdicts and findings.
How files are spread over the cluster, large files cut into parts, and 277CA control numbers
kept unique across executors: docs/spark.md. Only this package imports pyspark."""

from __future__ import annotations

from scrub837.spark._batch import SparkScrub, control_span, scrub_files
from scrub837.spark._rows import CLAIM_COLUMNS, FINDING_COLUMNS, ddl
from scrub837.spark._stream import scrub_stream
from scrub837.spark._tasks import FILE_COLUMNS

__all__ = ["CLAIM_COLUMNS", "FILE_COLUMNS", "FINDING_COLUMNS", "SparkScrub", "control_span",
           "ddl", "scrub_files", "scrub_stream"]
