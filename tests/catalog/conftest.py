from tests.aws.backends import lake, s3_lake  # noqa: F401 - fixtures
