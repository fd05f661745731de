"""The reference for a cache miss: the least a boto3 script does to print a role's exports.

    python bench/assume_min.py ROLE_ARN SESSION_NAME DURATION [SOURCE_IDENTITY]

One boto3 session on the `identity` profile, one STS client in eu-west-1 (the endpoint comes
from AWS_ENDPOINT_URL_STS, as for rolecall), one AssumeRole with the same parameters rolecall
sends, and the three `export` lines. No error handling, no cache, no journal.
"""

import sys

import boto3


def main(argv: list[str]) -> int:
    """Assume the role; print AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN."""
    params = {"RoleArn": argv[0], "RoleSessionName": argv[1], "DurationSeconds": int(argv[2])}
    if len(argv) > 3:
        params["SourceIdentity"] = argv[3]
    client = boto3.Session(profile_name="identity").client("sts", region_name="eu-west-1")
    creds = client.assume_role(**params)["Credentials"]
    print(
        f"export AWS_ACCESS_KEY_ID={creds['AccessKeyId']}\n"
        f"export AWS_SECRET_ACCESS_KEY={creds['SecretAccessKey']}\n"
        f"export AWS_SESSION_TOKEN={creds['SessionToken']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
