"""The file to give spark-submit (it takes a script, not ``-m``): ``python -m scrub837.spark``.

    spark-submit --master spark://HOST:7077 examples/spark/scrub837_spark.py \\
        hdfs:///claims/in/ --out /mnt/shared/scrub837/out
"""

from scrub837.spark.__main__ import main

main()
