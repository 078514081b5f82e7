"""Least privilege on object storage: a user whose policy allows one prefix of one bucket.

    AWS_ENDPOINT_URL=http://127.0.0.1:5000 python least_privilege.py guide-uploads uploads/

creates the bucket, a user `uploader` with only that policy and an access key for it, then
tries one write inside the prefix and one outside, and prints what each got.
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError


# --8<-- [start:policy]
def prefix_policy(bucket: str, prefix: str) -> dict:
    """Read and write objects under `prefix`, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
        }],
    }


def create_uploader(bucket: str, prefix: str, user: str = "uploader") -> dict:
    """A user with only `prefix_policy`, and its access key (four admin calls)."""
    iam = boto3.session.Session().client("iam")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName=f"{bucket}-{prefix.strip('/')}",
                        PolicyDocument=json.dumps(prefix_policy(bucket, prefix)))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"]}
# --8<-- [end:policy]


def try_put(s3, bucket: str, key: str) -> int:
    """The HTTP status S3 answered a PutObject with."""
    try:
        return s3.put_object(Bucket=bucket, Key=key, Body=b"hello")[
            "ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"]


def main(bucket: str, prefix: str) -> dict[str, int]:
    boto3.session.Session().client("s3").create_bucket(Bucket=bucket)
    s3 = boto3.session.Session().client("s3", **create_uploader(bucket, prefix))
    return {f"{prefix}report.txt": try_put(s3, bucket, f"{prefix}report.txt"),
            "private/report.txt": try_put(s3, bucket, "private/report.txt")}


if __name__ == "__main__":
    for key, status in main(*sys.argv[1:3]).items():
        print(f"PUT {key}: {status}")
