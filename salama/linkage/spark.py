"""The Spark engine (``salama link --engine spark``): the same model on splink's Spark backend,
for deployments that outgrow one machine. pyspark is optional: importing this module without
it raises ImportError, which ``salama link`` reports plainly.

Locally (tests, one machine) :func:`local_session` starts Spark in local mode, bound to
127.0.0.1, without its web UI, with splink's similarity functions (its jar, shipped in the
splink wheel: nothing is downloaded). On a cluster, pass your own session.
"""

from __future__ import annotations

import tempfile

import pyarrow as pa
import pyspark  # noqa: F401 - fail early and plainly when pyspark is not installed

from salama.linkage import engine

# Local mode: few shuffle partitions; Spark's default of 200 is for clusters.
LOCAL_SHUFFLE_PARTITIONS = 8


def local_session(cores: int = 2, memory: str = "2g"):
    """A local Spark session for linkage, offline and on the loopback interface only."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("salama-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
        .config("spark.default.parallelism", str(LOCAL_SHUFFLE_PARTITIONS))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="salama-spark-checkpoints-"))
    return spark


def predict_spark(prepared: pa.Table, threshold: float, *, spark=None) -> list[dict]:
    """Score the prepared records with splink on Spark; rows as :func:`engine._to_candidates`
    reads them. Starts (and stops) a local session when none is given."""
    from splink import Linker, SparkAPI

    own = spark is None
    spark = spark or local_session()
    try:
        engine._quiet()
        db_api = SparkAPI(
            spark_session=spark, num_partitions_on_repartition=LOCAL_SHUFFLE_PARTITIONS
        )
        frame = spark.createDataFrame(prepared)
        sdf = db_api.register(frame)
        linker = Linker(sdf, engine.settings("spark"), log_level=None)
        predictions = linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        )
        columns = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"] + [
            f"gamma_{comparison.name}" for comparison in engine.LEVELS
        ]
        rows = predictions.as_spark_dataframe().select(*columns).toArrow().to_pylist()
        linker.table_management.delete_tables_created_by_splink_from_db()
        return rows
    finally:
        if own:
            spark.stop()
