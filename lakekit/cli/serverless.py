"""``lakekit serverless template`` and ``lakekit serverless dockerfile``."""

from __future__ import annotations

import click


@click.group("serverless")
def serverless_group() -> None:
    """Deploy lakekit as an AWS Lambda function invoked for each new raw object."""


@serverless_group.command("template")
@click.option("--table", required=True, metavar="DB.TABLE", help="The table the function ingests into.")
@click.option("--source", required=True, metavar="S3_URI", help="Where raw objects land, e.g. s3://bucket/raw/.")
@click.option("--warehouse", metavar="S3_URI", default=None,
              help="Where the table's Parquet goes. [default: s3://<source bucket>/lakekit]")
@click.option("--timestamp-column", metavar="COL", default=None, help="Column whose UTC time gives the partitions.")
def template_command(table, source, warehouse, timestamp_column):
    """Print an AWS SAM template: the function, its event rule, IAM policy and dead-letter queue.

    \b
    Example:
      lakekit serverless template --table analytics.events --source s3://raw-zone/events/ \\
          --warehouse s3://lake-zone/warehouse --timestamp-column ts > template.yaml
      lakekit serverless dockerfile > Dockerfile
      sam build && sam deploy --guided
    """
    from lakekit.serverless.sam import template

    click.echo(template(table=table, source=source, warehouse=warehouse, timestamp_column=timestamp_column), nl=False)


@serverless_group.command("dockerfile")
def dockerfile_command():
    """Print the Dockerfile the template's function image is built from.

    \b
    Example:
      lakekit serverless dockerfile > Dockerfile
    """
    from lakekit import __version__
    from lakekit.serverless.sam import dockerfile

    click.echo(dockerfile(__version__), nl=False)


COMMANDS = [serverless_group]
