import boto3


def test_moto_server_answers_real_s3_calls(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="a.txt", Body=b"hello")
    assert s3.get_object(Bucket="bkt", Key="a.txt")["Body"].read() == b"hello"
    assert aws.url.startswith("http://127.0.0.1:")


def test_reset_clears_state_between_tests(aws):
    assert boto3.client("s3").list_buckets()["Buckets"] == []
