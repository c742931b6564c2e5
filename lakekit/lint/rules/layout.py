"""Layout rules L001-L011: data laid out so that Athena reads more, or slower, than it must.

Each rule checks the kinds of target it can judge: a layout file before any data
exists (:meth:`LayoutRule.check_layout`), and a table's files in storage, with the
catalog's view of them for a ``DB.TABLE`` target (:meth:`LayoutRule.check_table`).
Storage findings sit at line 1, column 1 of the folder or table they are about.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import ClassVar

from lakekit.lint.options import LintOptions
from lakekit.lint.rules.base import Rule
from lakekit.lint.targets import ROW_FORMATS, LayoutFileFacts, TableFacts, hive_values
from lakekit.lint.violation import Violation
from lakekit.paths import partition_path
from lakekit.units import human_bytes


def _example(uris: list[str], count: int) -> str:
    return f" (e.g. {uris[0]})" if uris and count else ""


class LayoutRule(Rule):
    family: ClassVar[str] = "layout"

    def check_layout(self, facts: LayoutFileFacts, options: LintOptions) -> Iterable[Violation]:
        return ()

    def check_table(self, facts: TableFacts, options: LintOptions) -> Iterable[Violation]:
        return ()

    def at_key(self, facts: LayoutFileFacts, key: str, message: str, fix: str | None = None) -> Violation:
        line, column = facts.position(key)
        return self.violation(facts.path, line, column, message, fix)

    def at_table(self, facts: TableFacts, message: str, fix: str | None = None) -> Violation:
        return self.violation(facts.path, 1, 1, message, fix)


class InvalidLayout(LayoutRule):
    """A layout file lakekit cannot read: not YAML, or settings it does not know.

    What it does:
        Reports a layout file that does not load (a YAML syntax error, a file that is
        not a mapping, an unknown setting, a value out of range) as a finding at the
        place it names, and goes on with the other targets. The other layout rules
        cannot check such a file.

    Why is this bad?
        `lakekit ingest --layout` refuses the file, so the table it declares cannot be
        created from it; and a layout nobody can load is a table definition nobody can
        review: its format, compression and partitioning are unknown until fixed.

    Example:
        table: analytics.events
        partition_by: [year, month, hour]

    Use instead:
        table: analytics.events
        partition_by: [year, month, day]

    References:
        - The layout file format: SPEC.md "Layout files" and `layouts/events.yaml`
          in the lakekit repository.
        - YAML 1.1 specification: https://yaml.org/spec/1.1/
    """

    code = "L000"
    name = "invalid-layout"

    def unreadable(self, path: str, message: str) -> Violation:
        from lakekit.lint.targets import layout_error_position

        line, column = layout_error_position(path, message)
        prefix = f"{path}: "
        text = message[len(prefix):] if message.startswith(prefix) else message
        return self.violation(path, line, column, f"layout file does not load: {text}",
                              "fix the file; `lakekit rules L000` shows a valid one")


class NotPartitioned(LayoutRule):
    """A table over 1 GiB with no partition keys.

    What it does:
        Finds tables holding more than 1 GiB (`[lint] not_partitioned_size`) with no
        partition keys, and layout files that declare no partitioning
        (`partition_by: []`).

    Why is this bad?
        Without partitions every query reads the whole table, whatever its WHERE
        clause says, and the bill grows with the table. Partitioning by the date the
        queries filter on lets Athena skip every folder outside the range asked for.

    Example:
        s3://bucket/events/part-0000.parquet ... part-0199.parquet   (40 GiB, one folder)

    Use instead:
        s3://bucket/events/year=2024/month=03/day=07/part-0000.parquet
        (lakekit ingest --timestamp-column ts --partition-by year,month,day)

    References:
        - Partition your data (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/partitions.html
        - Top 10 performance tuning tips for Amazon Athena ("Partition your data"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
    """

    code = "L001"
    name = "not-partitioned"

    def check_layout(self, facts, options):
        if "partition_by" in facts.layout.raw and not facts.layout.partition_by:
            yield self.at_key(
                facts, "partition_by",
                f"{facts.layout.table} declares no partition keys: every query will read the whole table",
                "partition_by: [year, month, day] with a timestamp_column",
            )

    def check_table(self, facts, options):
        if facts.table is not None and facts.table.partition_keys:
            return
        if any(f.partition for f in facts.files):
            return
        size = facts.total_size
        if size > options.not_partitioned_size:
            yield self.at_table(
                facts,
                f"{human_bytes(size)} in {len(facts.files)} files with no partitions: every query reads all of it",
                "partition by date (lakekit ingest --timestamp-column ... --partition-by year,month,day)",
            )


class NonHivePartitions(LayoutRule):
    """Partition folders that are not `key=value` (`2019/11/25/`).

    What it does:
        Finds data in date-like folders (`2019/11/25/`, `2019-11-25/`) instead of
        Hive-style `key=value` folders (`year=2019/month=11/day=25/`).

    Why is this bad?
        Athena (and Glue crawlers, `MSCK REPAIR TABLE`) discover partitions only from
        `key=value` folder names. Other layouts need every partition added by hand
        with `ALTER TABLE ADD PARTITION ... LOCATION`, and partitions someone forgets
        silently disappear from query results.

    Example:
        s3://bucket/events/2019/11/25/data.parquet

    Use instead:
        s3://bucket/events/year=2019/month=11/day=25/data.parquet

    References:
        - Partition your data (Amazon Athena User Guide), "Preparing Hive style and
          non-Hive style data": https://docs.aws.amazon.com/athena/latest/ug/partitions.html
    """

    code = "L002"
    name = "non-hive-partitions"

    def check_table(self, facts, options):
        folders = sorted({f.partition for f in facts.files if any("=" not in p for p in f.partition)})
        if folders:
            example = "/".join(folders[0])
            yield self.at_table(
                facts,
                f"{len(folders)} partition folder(s) are not key=value (e.g. {example}/): "
                "Athena cannot discover them",
                "rewrite as year=YYYY/month=MM/day=DD/ (lakekit ingest does)",
            )


class RowFormat(LayoutRule):
    """CSV / JSON / text data files where Parquet or ORC would serve.

    What it does:
        Finds data files in row formats (CSV, TSV, JSON Lines, plain text), and
        layout files that declare one.

    Why is this bad?
        A row format makes Athena read every byte of every row, whatever columns the
        query uses, and parse text on the way. Parquet and ORC store each column
        apart, compressed and with statistics, so queries read only the columns they
        need and skip row groups: typically a tenth of the bytes, and of the bill.

    Example:
        format: csv

    Use instead:
        format: parquet
        compression: zstd

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Use columnar file
          formats"): https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
        - Use columnar storage formats (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/columnar-storage.html
    """

    code = "L003"
    name = "row-format"

    def check_layout(self, facts, options):
        if facts.layout.format in ROW_FORMATS:
            yield self.at_key(
                facts, "format",
                f"format {facts.layout.format} is a row format: every query reads whole rows",
                "format: parquet",
            )

    def check_table(self, facts, options):
        rows = [f for f in facts.files if f.format in ROW_FORMATS]
        if rows:
            kinds = ", ".join(sorted({f.format for f in rows}))
            yield self.at_table(
                facts,
                f"{len(rows)} of {len(facts.files)} files are {kinds}{_example([rows[0].uri], 1)}: "
                "queries read whole rows",
                "convert to Parquet (lakekit ingest)",
            )


class Uncompressed(LayoutRule):
    """Data files with no compression.

    What it does:
        Finds Parquet files whose column chunks are all uncompressed, text files
        without a compression suffix, and layout files with `compression: none`.

    Why is this bad?
        Athena bills for bytes scanned. Compressed data is several times smaller, so
        the same query scans, and costs, several times less, and reads from S3
        faster. zstd and snappy decompress faster than the network delivers.

    Example:
        compression: none

    Use instead:
        compression: zstd

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Use compression"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
        - Athena compression support (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/compression-formats.html
    """

    code = "L004"
    name = "uncompressed"

    def check_layout(self, facts, options):
        if facts.layout.compression == "none":
            yield self.at_key(
                facts, "compression" if "compression" in facts.positions else "table",
                "compression none: every query scans (and pays for) the uncompressed bytes",
                "compression: zstd",
            )

    def check_table(self, facts, options):
        plain = [
            f for f in facts.files
            if (f.footer is not None and f.footer.codecs <= {"UNCOMPRESSED"} and f.footer.codecs)
            or (f.format in ROW_FORMATS and f.compression == "none")
        ]
        if plain:
            yield self.at_table(
                facts,
                f"{len(plain)} of {len(facts.files)} files are uncompressed ({human_bytes(sum(f.size for f in plain))})"
                f"{_example([plain[0].uri], 1)}",
                "rewrite with zstd or snappy compression",
            )


class UnsplittableCompression(LayoutRule):
    """Gzip or zip text files over 128 MiB (gzip cannot be split; bzip2 can).

    What it does:
        Finds gzip- or zip-compressed CSV/JSON/text files larger than 128 MiB
        (`[lint] unsplittable_size`), and layout files that declare a row format with
        gzip compression.

    Why is this bad?
        A gzip stream can only be read from its start, so one Athena worker reads the
        whole file while the others wait: a 5 GiB `.csv.gz` is read by one reader.
        bzip2 text can be split, and Parquet files are split by row group whatever
        their codec.

    Example:
        s3://bucket/raw/events-2024-03.csv.gz   (6 GiB)

    Use instead:
        Parquet with zstd (lakekit ingest), or files of 128 MiB or less, or bzip2.

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Use compression"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
        - Athena compression support (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/compression-formats.html
    """

    code = "L005"
    name = "unsplittable-compression"

    def check_layout(self, facts, options):
        if facts.layout.format in ROW_FORMATS and facts.layout.compression == "gzip":
            yield self.at_key(
                facts, "compression",
                f"gzip {facts.layout.format} files cannot be split: one worker reads each whole file",
                "format: parquet (or bzip2, or files under 128MiB)",
            )

    def check_table(self, facts, options):
        big = [
            f for f in facts.files
            if f.format in ROW_FORMATS and f.compression in ("gzip", "zip") and f.size > options.unsplittable_size
        ]
        if big:
            yield self.at_table(
                facts,
                f"{len(big)} {big[0].compression} text file(s) over {human_bytes(options.unsplittable_size)} cannot be "
                f"split{_example([big[0].uri], 1)}: one worker reads each",
                "convert to Parquet, or split into files under 128 MiB",
            )


class SmallFiles(LayoutRule):
    """Files under 128 MiB on average where a partition holds more than one file.

    What it does:
        Finds partitions (or unpartitioned tables) with several files averaging under
        128 MiB (`[lint] small_file_size`), and layout files with a
        `target_file_size` under it.

    Why is this bad?
        Every file costs Athena a listing, an open, a footer read and a task, however
        little data it holds. Thousands of small files make a query spend its time
        on overhead rather than data; fewer, larger files read faster.

    Example:
        year=2024/month=03/day=07/ with 800 files of 200 KiB

    Use instead:
        year=2024/month=03/day=07/ with 2 files of 80 MiB
        (lakekit ingest --target-file-size 128MiB, or compact with a CTAS)

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Optimize file size"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
        - Optimize Athena performance (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/performance-tuning.html
    """

    code = "L006"
    name = "small-files"

    def check_layout(self, facts, options):
        if facts.layout.target_file_size < options.small_file_size:
            yield self.at_key(
                facts, "target_file_size",
                f"target_file_size {human_bytes(facts.layout.target_file_size)} is under "
                f"{human_bytes(options.small_file_size)}: many small files",
                "target_file_size: 128MiB",
            )

    def check_table(self, facts, options):
        small = []
        for partition, files in facts.partitions().items():
            if len(files) > 1 and sum(f.size for f in files) / len(files) < options.small_file_size:
                small.append((partition, files))
        if small:
            files = [f for _, fs in small for f in fs]
            average = human_bytes(sum(f.size for f in files) / len(files))
            where = f"{len(small)} partition(s) hold" if any(p for p, _ in small) else "the unpartitioned folder holds"
            yield self.at_table(
                facts,
                f"{where} {len(files)} files averaging {average} (under {human_bytes(options.small_file_size)})",
                "compact into files near 128 MiB",
            )


class OverPartitioned(LayoutRule):
    """Partitions holding under 128 MiB on average across more than 1,000 partitions, or more than 100,000 partitions (consider partition projection).

    What it does:
        Finds tables with more than 1,000 partitions (`[lint] many_partitions`) that
        average under 128 MiB each (`[lint] small_partition_size`), and tables with
        more than 100,000 partitions (`[lint] max_partitions`) of any size.

    Why is this bad?
        Before a query reads anything, Athena fetches the matching partitions from
        the catalog; with many partitions that alone takes seconds, and tiny
        partitions also mean tiny files. Use a coarser grain (month instead of day),
        or partition projection, which computes partitions instead of listing them.

    Example:
        year=/month=/day=/hour= partitions over 5 years: 43,800 partitions of 3 MiB

    Use instead:
        year=/month= partitions (60 of 1.8 GiB), or `projection: true` in the layout

    References:
        - Partition projection with Amazon Athena (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html
        - Top 10 performance tuning tips for Amazon Athena ("Partition your data"):
          https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
    """

    code = "L007"
    name = "over-partitioned"

    def check_table(self, facts, options):
        partitions = {f.partition for f in facts.files if f.partition}
        if facts.catalog_partitions is not None:
            partitions = {tuple(p.values) for p in facts.catalog_partitions} or partitions
        count = len(partitions)
        if not count:
            return
        average = facts.total_size / count
        if count > options.max_partitions:
            yield self.at_table(
                facts,
                f"{count} partitions (over {options.max_partitions}): listing them slows every query",
                "use a coarser partition grain or partition projection",
            )
        elif count > options.many_partitions and average < options.small_partition_size:
            yield self.at_table(
                facts,
                f"{count} partitions averaging {human_bytes(average)} (over {options.many_partitions} partitions "
                f"under {human_bytes(options.small_partition_size)})",
                "use a coarser partition grain (year,month) or partition projection",
            )


class SchemaDrift(LayoutRule):
    """Data files of one table whose schemas disagree.

    What it does:
        Compares the schemas in the Parquet footers of a table's files and finds
        columns missing from some files or stored with different types.

    Why is this bad?
        Athena reads every file with the table's one schema. A column stored as
        `string` in some files and `bigint` in others fails the query with
        HIVE_BAD_DATA or HIVE_PARTITION_SCHEMA_MISMATCH; a column missing from some
        files reads as NULL there, which quietly changes results.

    Example:
        part-0.parquet: amount double;  part-1.parquet: amount string

    Use instead:
        Write every file with the table's schema (lakekit ingest conforms records to
        the catalog's columns), or rewrite the odd files.

    References:
        - Handling schema updates (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/handling-schema-updates-chapter.html
    """

    code = "L008"
    name = "schema-drift"

    def check_table(self, facts, options):
        footed = [f for f in facts.files if f.footer is not None]
        if len(footed) < 2:
            return
        differences = _type_differences(footed) + _non_additive_columns(footed, facts.table)
        if not differences:
            return
        schemas = len({f.footer.columns for f in footed})
        yield self.at_table(
            facts,
            f"{schemas} different schemas across {len(footed)} Parquet files: "
            f"{'; '.join(differences[:3])}{' ...' if len(differences) > 3 else ''}",
            "rewrite the odd files with the table's schema",
        )


def _type_differences(files) -> list[str]:
    """Columns stored with more than one type, each type with its file count and a file holding it."""
    types: dict[str, Counter] = {}
    example: dict[tuple[str, str], str] = {}
    for f in files:
        for column, athena in f.footer.columns:
            types.setdefault(column, Counter())[athena] += 1
            example.setdefault((column, athena), f.uri)
    found = []
    for column, counter in sorted(types.items()):
        if len(counter) < 2:
            continue
        ranked = counter.most_common()
        shown = [f"{ranked[0][0]} in {ranked[0][1]} file(s)"]
        shown += [f"{t} in {n} (e.g. {example[(column, t)]})" for t, n in ranked[1:]]
        found.append(f"{column} has types {', '.join(shown)}")
    return found


def _non_additive_columns(files, table=None) -> list[str]:
    """Columns a file lacks although it has a column added after them.

    lakekit's schema evolution adds columns: a file written before a column existed
    lacks it, and Athena reads it as NULL there, as intended. A file that has a later
    column but lacks an earlier one was written with another schema. The order of
    columns is the catalog's (when the target is a catalog table), then that of the
    file with the most columns, then first seen.
    """
    order: list[str] = []
    if table is not None:
        order = [c.name.lower() for c in table.columns]
    widest = max(files, key=lambda f: len(f.footer.columns))
    for f in [widest, *files]:
        order += [c for c, _ in f.footer.columns if c not in order]
    position = {c: i for i, c in enumerate(order)}
    lacking: dict[str, list] = {}
    later: dict[str, tuple[str, str]] = {}
    for f in files:
        mine = {c for c, _ in f.footer.columns}
        if not mine:
            continue
        latest = max(mine, key=position.__getitem__)
        for column in order[: position[latest]]:
            if column not in mine:
                lacking.setdefault(column, []).append(f)
                later.setdefault(column, (f.uri, latest))
    found = []
    for column in sorted(lacking, key=position.__getitem__):
        uri, latest = later[column]
        found.append(
            f"{column} is missing from {len(lacking[column])} file(s) (e.g. {uri}, which has {latest}, "
            f"a column added after it)"
        )
    return found


class MissingStatistics(LayoutRule):
    """Parquet files without min/max column statistics.

    What it does:
        Finds Parquet files with columns whose chunks carry no min/max statistics
        (written with statistics turned off, or by an old writer).

    Why is this bad?
        Athena skips row groups whose min/max rule out a query's predicate, and
        lakekit's cost estimate does the same. Without statistics every row group is
        read and decoded, so selective queries cost as much as full scans.

    Example:
        pyarrow.parquet.write_table(table, path, write_statistics=False)

    Use instead:
        pyarrow.parquet.write_table(table, path)   # statistics are on by default

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Use columnar file
          formats"): https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
    """

    code = "L009"
    name = "missing-statistics"

    def check_table(self, facts, options):
        without = [f for f in facts.files if f.footer is not None and f.footer.columns_without_stats]
        if without:
            columns = sorted({c for f in without for c in f.footer.columns_without_stats})
            shown = ", ".join(columns[:5]) + (" ..." if len(columns) > 5 else "")
            yield self.at_table(
                facts,
                f"{len(without)} Parquet file(s) lack min/max statistics for {shown}{_example([without[0].uri], 1)}: "
                "no row group can be skipped",
                "rewrite with statistics on (lakekit ingest writes them)",
            )


class UnregisteredPartitions(LayoutRule):
    """Partitions in storage the catalog lacks, or catalog partitions with no data.

    What it does:
        For a catalog table target (`lakekit lint layout DB.TABLE`), compares the
        partitions the catalog lists with the `key=value` folders that hold data
        under the table's location. Tables using partition projection are skipped.

    Why is this bad?
        Athena only reads partitions the catalog knows: data in an unregistered
        folder is silently missing from every result. Catalog partitions without data
        make every query list empty folders and keep stale metadata around.

    Example:
        storage: year=2024/month=03/day=08/  but the catalog stops at day=07

    Use instead:
        lakekit catalog sync DB.TABLE   (or MSCK REPAIR TABLE, or partition projection)

    References:
        - Partition your data (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/partitions.html
        - MSCK REPAIR TABLE (Amazon Athena User Guide):
          https://docs.aws.amazon.com/athena/latest/ug/msck-repair-table.html
    """

    code = "L010"
    name = "unregistered-partitions"

    def check_table(self, facts, options):
        table = facts.table
        if table is None or facts.catalog_partitions is None or not table.partition_keys:
            return
        if str(table.parameters.get("projection.enabled", "")).lower() == "true":
            return
        keys = [k.name for k in table.partition_keys]
        in_catalog = {tuple(p.values) for p in facts.catalog_partitions}
        in_storage = set()
        for partition in {f.partition for f in facts.files}:
            values = hive_values(partition, keys)
            if values is not None:
                in_storage.add(values)
        name = table.qualified_name

        def show(values: tuple[str, ...]) -> str:
            return partition_path(keys, values)

        missing = sorted(in_storage - in_catalog)
        empty = sorted(in_catalog - in_storage)
        if missing:
            yield self.at_table(
                facts,
                f"{len(missing)} partition(s) in storage are not in the catalog (e.g. {show(missing[0])}): "
                "queries do not see their data",
                f"lakekit catalog sync {name}",
            )
        if empty:
            yield self.at_table(
                facts,
                f"{len(empty)} catalog partition(s) have no data files (e.g. {show(empty[0])})",
                f"lakekit catalog sync {name}",
            )


class SmallRowGroups(LayoutRule):
    """Parquet row groups averaging under 8 MiB in files over 32 MiB.

    What it does:
        Finds Parquet files over 32 MiB (`[lint] row_group_file_size`) whose row
        groups average under 8 MiB (`[lint] small_row_group_size`).

    Why is this bad?
        A row group is the unit Athena splits work by and skips with statistics; each
        has its own column chunks and pages, so tiny row groups mean many small reads
        from S3 and poor compression. Writers that flush every few thousand rows
        produce them; 64-128 MiB row groups read fastest.

    Example:
        pyarrow.parquet.write_table(table, path, row_group_size=10_000)   # 200 MiB file, 400 row groups

    Use instead:
        pyarrow.parquet.write_table(table, path, row_group_size=1_000_000)

    References:
        - Top 10 performance tuning tips for Amazon Athena ("Use columnar file
          formats"): https://aws.amazon.com/blogs/big-data/top-10-performance-tuning-tips-for-amazon-athena/
    """

    code = "L011"
    name = "small-row-groups"

    def check_table(self, facts, options):
        small = [
            f for f in facts.files
            if f.footer is not None and f.footer.row_groups
            and f.size > options.row_group_file_size
            and f.size / f.footer.row_groups < options.small_row_group_size
        ]
        if small:
            average = sum(f.size / f.footer.row_groups for f in small) / len(small)
            yield self.at_table(
                facts,
                f"{len(small)} Parquet file(s) over {human_bytes(options.row_group_file_size)} have row groups averaging "
                f"{human_bytes(average)} (under {human_bytes(options.small_row_group_size)}){_example([small[0].uri], 1)}",
                "rewrite with row groups of 64-128 MiB",
            )


LAYOUT_RULES: tuple[type[LayoutRule], ...] = (
    InvalidLayout,
    NotPartitioned,
    NonHivePartitions,
    RowFormat,
    Uncompressed,
    UnsplittableCompression,
    SmallFiles,
    OverPartitioned,
    SchemaDrift,
    MissingStatistics,
    UnregisteredPartitions,
    SmallRowGroups,
)
