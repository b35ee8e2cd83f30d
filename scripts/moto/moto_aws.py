#!/usr/bin/env python3
"""moto_server, answering as AWS does where moto 5.2.1 does not.

    scripts/moto/moto_aws.py -H 127.0.0.1 -p PORT      (moto_server's own flags)

Imports moto's server, applies the narrow patches below, then serves exactly
as ``moto_server`` does (same flags, same output). Each patch reproduces one
documented AWS behaviour that the conformance corpus recorded and moto does
otherwise; each names the AWS documentation it follows. Nothing here knows
about Stepwell or about Step Functions: the patches change what the emulated
services answer, for any client.

Run it with the Python that has moto installed (``pip install
'moto[server]'``); started with another one, it re-executes itself with the
interpreter named in moto_server's first line. tests/motoaws checks every
patch with the AWS SDK for Go, so that a moto upgrade that changes one of
these behaviours is noticed.
"""

import base64
import functools
import itertools
import json
import os
import re
import shutil
import sys
import threading


def _reexec_with_motos_python():
    """Re-executes this script with the interpreter of moto_server's script."""
    path = shutil.which("moto_server")
    if path:
        with open(path, "rb") as fh:
            first = fh.readline().decode("utf-8", "replace").strip()
        if first.startswith("#!") and "python" in first:
            interp = first[2:].split()
            if interp and os.path.realpath(interp[0]) != os.path.realpath(sys.executable):
                os.execv(interp[0], interp + [os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("moto is not installed for %s (pip install 'moto[server]')" % sys.executable)


try:
    import moto.server
except ImportError:
    _reexec_with_motos_python()

from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import EventsBackend
from moto.s3 import models as s3models
from moto.s3.responses import S3Response
from moto.secretsmanager.exceptions import ValidationException as SecretsValidationException
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.sns.exceptions import SNSInvalidParameter, TopicNotFound
from moto.sns.models import SNSBackend
from moto.sns.responses import SNSResponse
from moto.sqs.exceptions import MissingParameter as SQSMissingParameter
from moto.sqs.responses import SQSResponse


def patch(cls, name):
    """Replaces cls.name by the decorated function, which gets the original first."""
    def decorate(fn):
        original = getattr(cls, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            return fn(original, *args, **kwargs)
        setattr(cls, name, wrapper)
        return fn
    return decorate


# --------------------------------------------------------------------------------------------
# S3: default encryption (SSE-S3).
# "Amazon S3 now applies server-side encryption with Amazon S3 managed keys (SSE-S3) as the base
# level of encryption for every bucket in Amazon S3. Starting January 5, 2023, all new object
# uploads to Amazon S3 are automatically encrypted" and the encryption status is returned "as an
# additional Amazon S3 API response header" (x-amz-server-side-encryption: AES256 on PutObject,
# GetObject, HeadObject, ...).
#   https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html
#   https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html
# GetBucketEncryption therefore answers the SSE-S3 rule for a new bucket, and DeleteBucketEncryption
# "resets the default encryption for the bucket as server-side encryption with Amazon S3 managed
# keys (SSE-S3)":
#   https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html
# moto 5.2.1 creates buckets without encryption and returns no x-amz-server-side-encryption.
# --------------------------------------------------------------------------------------------

def _sse_s3_default():
    return {"Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                     "BucketKeyEnabled": False}}


@patch(s3models.FakeBucket, "__init__")
def _bucket_init(original, self, *args, **kwargs):
    original(self, *args, **kwargs)
    self.encryption = _sse_s3_default()


@patch(s3models.S3Backend, "delete_bucket_encryption")
def _delete_bucket_encryption(original, self, bucket_name):
    original(self, bucket_name)
    self.get_bucket(bucket_name).encryption = _sse_s3_default()


# --------------------------------------------------------------------------------------------
# S3: default checksums on PutObject.
# PutObject's x-amz-checksum-type: "For PutObject uploads, the checksum type is always
# FULL_OBJECT"; x-amz-checksum-crc64nvme "is present if the object was uploaded with the CRC64NVME
# checksum algorithm, or if it was uploaded without a checksum (and Amazon S3 added the default
# checksum, CRC64NVME, to the uploaded object)". The stored checksum is returned by GetObject and
# HeadObject when the request has x-amz-checksum-mode: ENABLED (moto does that part).
#   https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
#   https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
# moto 5.2.1 returns no x-amz-checksum-type, adds no default checksum, and (without the optional
# awscrt package) computes "CRC64NVME" as CRC32.
# --------------------------------------------------------------------------------------------

def _crc64nvme_table():
    poly = 0x9A6C9329AC4BC9B5  # CRC-64/NVME, reflected
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64NVME = _crc64nvme_table()


def crc64nvme(data):
    """CRC-64/NVME of data (check value of b"123456789": 0xAE8B14860A799888)."""
    try:
        from awscrt import checksums
        return checksums.crc64nvme(data)
    except ImportError:
        pass
    crc, table = 0xFFFFFFFFFFFFFFFF, _CRC64NVME
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


@patch(S3Response, "put_object")
def _put_object(original, self):
    status, headers, body = original(self)
    if status != 200:
        return status, headers, body
    key = self.backend.get_object(self.bucket_name, self.parse_key_name())
    if key is None:
        return status, headers, body
    if not key.checksum_algorithm:
        value = base64.b64encode(crc64nvme(key.value).to_bytes(8, "big")).decode()
        key.checksum_algorithm, key.checksum_value = "CRC64NVME", value
        headers["x-amz-checksum-crc64nvme"] = value
    elif key.checksum_algorithm.upper() == "CRC64NVME":
        # S3 computes the checksum itself (moto, without awscrt, computes CRC32 instead)
        value = base64.b64encode(crc64nvme(key.value).to_bytes(8, "big")).decode()
        key.checksum_value = value
        headers["x-amz-checksum-crc64nvme"] = value
    key.checksum_type = "FULL_OBJECT"
    headers["x-amz-checksum-type"] = "FULL_OBJECT"
    return status, headers, body


# --------------------------------------------------------------------------------------------
# SQS: SendMessage without MessageBody.
# MessageBody is required (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
# API_SendMessage.html); a missing required parameter is the common error MissingParameter, HTTP
# 400 (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html),
# "The request must contain the parameter MessageBody." as AWS words it.
# moto 5.2.1 fails with HTTP 500 (an exception in its handler).
# --------------------------------------------------------------------------------------------

@patch(SQSResponse, "send_message")
def _send_message(original, self):
    if self._get_param("MessageBody") is None:
        raise SQSMissingParameter("MessageBody")
    return original(self)


# --------------------------------------------------------------------------------------------
# SNS: Publish.
# - To a topic that does not exist: NotFound, "Topic does not exist" (moto 5.2.1 looks the ARN up as
#   a platform endpoint next and answers "Endpoint does not exist"). API_Publish lists NotFound:
#   "Indicates that the requested resource does not exist."
# - To a FIFO topic without MessageGroupId: MessageGroupId "is required for FIFO topics"; AWS
#   answers InvalidParameter "Invalid parameter: The MessageGroupId parameter is required for FIFO
#   topics" (moto 5.2.1: MissingParameter; it answers AWS's text for PublishBatch already).
# - To a FIFO topic: the result has SequenceNumber, "a large, non-consecutive number that Amazon SNS
#   assigns to each message. [...] SequenceNumber continues to increase for each MessageGroupId"
#   (moto 5.2.1 answers no SequenceNumber).
#   https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
#   https://docs.aws.amazon.com/sns/latest/dg/fifo-message-grouping.html
# --------------------------------------------------------------------------------------------

def _topic_or_none(backend, arn):
    try:
        return backend.get_topic(arn)
    except TopicNotFound:
        return None
    except Exception:  # not an ARN moto can parse: let moto answer
        return None


def _is_topic_arn(arn):
    # platform endpoints are arn:aws:sns:<region>:<account>:endpoint/<platform>/<app>/<id>
    return bool(arn) and arn.startswith("arn:") and ":endpoint/" not in arn


@patch(SNSBackend, "publish")
def _sns_publish(original, self, message, arn, phone_number=None, subject=None, message_attributes=None,
                 group_id=None, deduplication_id=None, message_structure=None):
    if not phone_number and _is_topic_arn(arn):
        topic = _topic_or_none(self, arn)
        if topic is None:
            raise TopicNotFound
        if topic.fifo_topic and not group_id:
            raise SNSInvalidParameter("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    return original(self, message, arn, phone_number=phone_number, subject=subject,
                    message_attributes=message_attributes, group_id=group_id,
                    deduplication_id=deduplication_id, message_structure=message_structure)


_sequence_lock = threading.Lock()
_sequences = {}  # (topic ARN, MessageGroupId) -> itertools.count


def _next_sequence_number(topic_arn, group_id):
    with _sequence_lock:
        counter = _sequences.setdefault((topic_arn, group_id), itertools.count(1))
        n = next(counter)
    # AWS's have 20 digits (10000000000000000001, ...); they increase, not one by one
    return str(10000000000000000000 + n * 1000)


@patch(SNSResponse, "publish")
def _sns_publish_response(original, self):
    result = original(self)
    arn = self._get_param("TopicArn") or self._get_param("TargetArn")
    topic = _topic_or_none(self.backend, arn) if _is_topic_arn(arn) else None
    if topic is not None and topic.fifo_topic and isinstance(result.result, dict):
        result.result["SequenceNumber"] = _next_sequence_number(arn, self._get_param("MessageGroupId"))
    return result


# --------------------------------------------------------------------------------------------
# EventBridge: PutEvents with a Detail that is JSON but not an object.
# A PutEventsRequestEntry's Detail is "A valid JSON object. There is no other schema imposed."
# (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html);
# an entry that breaks it fails alone with ErrorCode MalformedDetail, "The JSON provided is not
# valid." (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html),
# message "Detail is malformed.".  moto 5.2.1 accepts "\"jsonstring\"", 1, [] ... with a warning.
# --------------------------------------------------------------------------------------------

def _detail_not_object(entry):
    detail = entry.get("Detail") if isinstance(entry, dict) else None
    if not detail or not isinstance(detail, str):
        return False  # moto answers missing Detail (InvalidArgument) itself
    try:
        return not isinstance(json.loads(detail), dict)
    except ValueError:
        return False  # not JSON at all: moto answers MalformedDetail itself


@patch(EventsBackend, "put_events")
def _put_events(original, self, events):
    if not isinstance(events, list) or len(events) > 10 or not any(_detail_not_object(e) for e in events):
        return original(self, events)
    accepted = original(self, [e for e in events if not _detail_not_object(e)])
    results = iter(accepted)
    return [{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
            if _detail_not_object(e) else next(results) for e in events]


# --------------------------------------------------------------------------------------------
# Secrets Manager: CreateSecret with a name outside the allowed characters.
# "The secret name can contain ASCII letters, numbers, and the following characters: /_+=.@-"
# (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html); AWS
# answers ValidationException, "Invalid name. Must be a valid name containing alphanumeric
# characters, or any of the following: -/_+=.@!". moto 5.2.1 creates the secret.
# --------------------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")


@patch(SecretsManagerResponse, "create_secret")
def _create_secret(original, self):
    name = self._get_param("Name")
    if isinstance(name, str) and not _SECRET_NAME.fullmatch(name):
        raise SecretsValidationException(
            "Invalid name. Must be a valid name containing alphanumeric characters, "
            "or any of the following: -/_+=.@!")
    return original(self)


# --------------------------------------------------------------------------------------------
# DynamoDB: a required member missing (or null) in GetItem, PutItem, UpdateItem, DeleteItem.
# TableName and Item (PutItem) or Key (the others) are "Required: Yes"
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html, API_GetItem,
# API_UpdateItem, API_DeleteItem). DynamoDB validates the request before it looks at the table and
# answers ValidationException (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
# CommonErrors.html) in its constraint wording: "1 validation error detected: Value null at 'item'
# failed to satisfy constraint: Member must not be null". moto 5.2.1 fails with HTTP 500 (a
# KeyError in its handler).
# --------------------------------------------------------------------------------------------

_DYNAMODB_REQUIRED = {
    "get_item": ("TableName", "Key"),
    "put_item": ("TableName", "Item"),
    "update_item": ("TableName", "Key"),
    "delete_item": ("TableName", "Key"),
}


def _require_members(method, members):
    @patch(DynamoHandler, method)
    def check(original, self):
        body = self.body if isinstance(self.body, dict) else {}
        missing = [m for m in members if body.get(m) is None]
        if missing:
            errors = ["Value null at '%s' failed to satisfy constraint: Member must not be null"
                      % (m[0].lower() + m[1:]) for m in missing]
            raise MockValidationException("%d validation error%s detected: %s" % (
                len(errors), "" if len(errors) == 1 else "s", "; ".join(errors)))
        return original(self)


for _method, _members in _DYNAMODB_REQUIRED.items():
    _require_members(_method, _members)


if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(moto.server.main())
