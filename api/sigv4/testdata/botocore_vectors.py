#!/usr/bin/env python3
"""Writes botocore_vectors.json: requests signed by botocore's SigV4Auth (the
signer of the AWS CLI and boto3), an implementation independent of ours, for
sigv4's tests. Run: python3 botocore_vectors.py > botocore_vectors.json"""
import datetime, json
from unittest import mock

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NOW = datetime.datetime(2026, 12, 7, 1, 2, 3)
KEY, SECRET = "AKIDSTEPWELLTEST0001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

CASES = [
    dict(name="ListStateMachines", method="POST", url="http://127.0.0.1:8083/", body='{"maxResults":10}',
         headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.ListStateMachines"}),
    dict(name="user-agent signed", method="POST", url="http://127.0.0.1:8083/", body="{}", sign_all=True,
         headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.ListActivities",
                  "User-Agent": "aws-sdk-java/1.12.0  Linux/6.1"}),
    dict(name="path and query", method="GET", url="http://localhost:8083/a%20b/c~d/?b=2&a=1&a=0&c=x%20y&e=", body="",
         headers={"X-Custom": "  two   spaces  inside  "}),
    dict(name="session token", method="POST", url="https://stepwell.example.com/", body="{}", token="FQoGZXIvYXdzEXAMPLE",
         headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.ListStateMachines"}),
]

out = []
for c in CASES:
    req = AWSRequest(method=c["method"], url=c["url"], data=c["body"].encode(), headers=dict(c["headers"]))
    creds = Credentials(KEY, SECRET, c.get("token"))
    signer = auth.SigV4Auth(creds, "states", "us-east-1")
    with mock.patch.object(auth.datetime, "datetime", wraps=datetime.datetime) as dt:
        dt.now.return_value = NOW
        dt.utcnow.return_value = NOW
        if c.get("sign_all"):
            with mock.patch.object(auth, "SIGNED_HEADERS_BLACKLIST", []):
                signer.add_auth(req)
        else:
            signer.add_auth(req)
    out.append(dict(name=c["name"], method=c["method"], url=c["url"], body=c["body"], token=c.get("token", ""),
                    headers={k: v for k, v in req.headers.items()}))
print(json.dumps(dict(accessKeyId=KEY, secretAccessKey=SECRET, now=NOW.strftime("%Y%m%dT%H%M%SZ"), cases=out), indent=1))
