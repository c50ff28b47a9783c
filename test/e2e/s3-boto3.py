# Driven by test/e2e/s3-boto3.test.ts: Debian's python3-boto3 against Stratus's S3 API (path-style), printing one
# JSON line of what it saw. Arguments: endpoint URL, second endpoint URL (own port), access key, secret key, work
# directory, the cloud's base URL (for Swift's view of a public bucket).
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.client import Config
from botocore.exceptions import ClientError

endpoint, endpoint2, access, secret = sys.argv[1:5]


def client(url):
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )


s3 = client(endpoint)
out = {}
s3.create_bucket(Bucket="boto-bucket")
out["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
out["buckets_own_port"] = [b["Name"] for b in client(endpoint2).list_buckets()["Buckets"]]
body = b"hello from boto3\n"
put = s3.put_object(Bucket="boto-bucket", Key="dir/hello.txt", Body=body, Metadata={"color": "blue"})
out["put_etag"] = put["ETag"]
got = s3.get_object(Bucket="boto-bucket", Key="dir/hello.txt")
out["get_body"] = got["Body"].read().decode()
out["get_meta"] = got["Metadata"]
head = s3.head_object(Bucket="boto-bucket", Key="dir/hello.txt")
out["head_length"] = head["ContentLength"]
out["range"] = s3.get_object(Bucket="boto-bucket", Key="dir/hello.txt", Range="bytes=0-4")["Body"].read().decode()
for k in ["dir/a", "dir/b", "other/c", "top"]:
    s3.put_object(Bucket="boto-bucket", Key=k, Body=k.encode())
listed = s3.list_objects_v2(Bucket="boto-bucket", Delimiter="/")
out["keys"] = [o["Key"] for o in listed.get("Contents", [])]
out["prefixes"] = [p["Prefix"] for p in listed.get("CommonPrefixes", [])]
paginator = s3.get_paginator("list_objects")
out["paged"] = [o["Key"] for page in paginator.paginate(Bucket="boto-bucket", PaginationConfig={"PageSize": 2}) for o in page.get("Contents", [])]
# Multipart: ~12 MiB in 5 MiB parts through the transfer manager.
path = os.path.join(sys.argv[5], "big.bin")
data = os.urandom(12 * 1024 * 1024 + 123)
with open(path, "wb") as f:
    f.write(data)
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=2)
s3.upload_file(path, "boto-bucket", "big.bin", Config=cfg)
big = s3.head_object(Bucket="boto-bucket", Key="big.bin")
out["big_etag"] = big["ETag"]
out["big_length"] = big["ContentLength"]
down = os.path.join(sys.argv[5], "big.down")
s3.download_file("boto-bucket", "big.bin", down, Config=cfg)
with open(down, "rb") as f:
    out["big_same"] = hashlib.md5(f.read()).hexdigest() == hashlib.md5(data).hexdigest()
# One part of it by number (its parts are 5 MiB, 5 MiB and the rest): 206 with that part's range and the parts count.
part_size = 5 * 1024 * 1024
p2 = s3.get_object(Bucket="boto-bucket", Key="big.bin", PartNumber=2)
out["part2_same"] = p2["Body"].read() == data[part_size : 2 * part_size]
out["part2"] = [p2["ResponseMetadata"]["HTTPStatusCode"], p2["ContentLength"], p2["ContentRange"], p2["PartsCount"], p2["ETag"]]
h1 = s3.head_object(Bucket="boto-bucket", Key="big.bin", PartNumber=1)
h1_range = h1["ResponseMetadata"]["HTTPHeaders"].get("content-range")
out["part1_head"] = [h1["ResponseMetadata"]["HTTPStatusCode"], h1["ContentLength"], h1_range, h1["PartsCount"], h1["ETag"]]
try:
    s3.get_object(Bucket="boto-bucket", Key="big.bin", PartNumber=4)
    out["part4"] = "served"
except ClientError as e:
    out["part4"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
# A presigned GET fetched without any credentials.
url = s3.generate_presigned_url("get_object", Params={"Bucket": "boto-bucket", "Key": "dir/hello.txt"}, ExpiresIn=300)
with urllib.request.urlopen(url) as r:
    out["presigned"] = r.read().decode()
s3.copy_object(Bucket="boto-bucket", Key="copy.txt", CopySource={"Bucket": "boto-bucket", "Key": "dir/hello.txt"})
out["copy"] = s3.get_object(Bucket="boto-bucket", Key="copy.txt")["Body"].read().decode()
# The transfer manager copies a large object part by part (UploadPartCopy with ranges).
s3.copy({"Bucket": "boto-bucket", "Key": "big.bin"}, "boto-bucket", "big-copy.bin", Config=cfg)
bc = s3.head_object(Bucket="boto-bucket", Key="big-copy.bin")
out["copy_parts_etag"] = bc["ETag"]
out["copy_parts_length"] = bc["ContentLength"]
mp = s3.create_multipart_upload(Bucket="boto-bucket", Key="ranged")
part = s3.upload_part_copy(
    Bucket="boto-bucket",
    Key="ranged",
    UploadId=mp["UploadId"],
    PartNumber=1,
    CopySource={"Bucket": "boto-bucket", "Key": "dir/hello.txt"},
    CopySourceRange="bytes=6-9",
)
s3.complete_multipart_upload(
    Bucket="boto-bucket",
    Key="ranged",
    UploadId=mp["UploadId"],
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]},
)
out["ranged"] = s3.get_object(Bucket="boto-bucket", Key="ranged")["Body"].read().decode()
# A public-read bucket is its container readable by anyone through Swift; private again, it is not.
s3.put_bucket_acl(Bucket="boto-bucket", ACL="public-read")
acl = s3.get_bucket_acl(Bucket="boto-bucket")
out["acl_grants"] = [[g["Grantee"]["Type"], g["Permission"]] for g in acl["Grants"]]
public = f"{sys.argv[6]}/object-store/v1/AUTH_{acl['Owner']['ID']}/boto-bucket/dir/hello.txt"
with urllib.request.urlopen(public) as r:
    out["public_get"] = r.read().decode()
s3.put_bucket_acl(Bucket="boto-bucket", ACL="private")
try:
    urllib.request.urlopen(public)
except urllib.error.HTTPError as e:
    out["private_get"] = e.code
out["object_acl"] = [g["Permission"] for g in s3.get_object_acl(Bucket="boto-bucket", Key="top")["Grants"]]
try:
    s3.get_object(Bucket="boto-bucket", Key="missing")
except ClientError as e:
    out["missing"] = e.response["Error"]["Code"]
try:
    s3.delete_bucket(Bucket="boto-bucket")
except ClientError as e:
    out["not_empty"] = e.response["Error"]["Code"]
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="boto-bucket")["Contents"]]
deleted = s3.delete_objects(Bucket="boto-bucket", Delete={"Objects": [{"Key": k} for k in keys]})
out["deleted"] = len(deleted.get("Deleted", []))
s3.delete_object(Bucket="boto-bucket", Key="dir/hello.txt")
s3.delete_bucket(Bucket="boto-bucket")
out["after"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
# Bucket versioning: two versions of a key, read by VersionId, a delete marker, then every version removed.
s3.create_bucket(Bucket="boto-versions")
out["versioning_before"] = s3.get_bucket_versioning(Bucket="boto-versions").get("Status")
s3.put_bucket_versioning(Bucket="boto-versions", VersioningConfiguration={"Status": "Enabled"})
out["versioning"] = s3.get_bucket_versioning(Bucket="boto-versions").get("Status")
v1 = s3.put_object(Bucket="boto-versions", Key="doc", Body=b"one")["VersionId"]
v2 = s3.put_object(Bucket="boto-versions", Key="doc", Body=b"two")["VersionId"]
out["version_ids_differ"] = v1 != v2
out["get_v1"] = s3.get_object(Bucket="boto-versions", Key="doc", VersionId=v1)["Body"].read().decode()
out["get_latest"] = s3.get_object(Bucket="boto-versions", Key="doc")["Body"].read().decode()
# CopyObject from the older version (x-amz-copy-source ...?versionId=), then the copy's version removed again.
cv = s3.copy_object(
    Bucket="boto-versions", Key="copied", CopySource={"Bucket": "boto-versions", "Key": "doc", "VersionId": v1}
)
out["copy_source_version"] = cv.get("CopySourceVersionId") == v1
out["copy_v1"] = s3.get_object(Bucket="boto-versions", Key="copied")["Body"].read().decode()
s3.delete_object(Bucket="boto-versions", Key="copied", VersionId=cv["VersionId"])
listed = s3.list_object_versions(Bucket="boto-versions")
out["versions"] = [[v["VersionId"] == v2, v["IsLatest"]] for v in listed.get("Versions", [])]
dm = s3.delete_object(Bucket="boto-versions", Key="doc")
out["delete_marker"] = dm.get("DeleteMarker")
try:
    s3.head_object(Bucket="boto-versions", Key="doc")
except ClientError as e:
    out["after_marker"] = e.response["Error"]["Code"]
listed = s3.list_object_versions(Bucket="boto-versions")
out["markers"] = [[m["VersionId"] == dm["VersionId"], m["IsLatest"]] for m in listed.get("DeleteMarkers", [])]
s3.delete_object(Bucket="boto-versions", Key="doc", VersionId=dm["VersionId"])
out["restored"] = s3.get_object(Bucket="boto-versions", Key="doc")["Body"].read().decode()
pages = s3.get_paginator("list_object_versions").paginate(Bucket="boto-versions", PaginationConfig={"PageSize": 1})
every = [v for page in pages for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
out["paged_versions"] = len(every)
s3.delete_objects(
    Bucket="boto-versions",
    Delete={"Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in every]},
)
s3.put_bucket_versioning(Bucket="boto-versions", VersioningConfiguration={"Status": "Suspended"})
out["suspended"] = s3.get_bucket_versioning(Bucket="boto-versions").get("Status")
# Bucket tagging.
try:
    s3.get_bucket_tagging(Bucket="boto-versions")
except ClientError as e:
    out["no_tags"] = e.response["Error"]["Code"]
s3.put_bucket_tagging(
    Bucket="boto-versions",
    Tagging={"TagSet": [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "test"}]},
)
out["bucket_tags"] = sorted([t["Key"], t["Value"]] for t in s3.get_bucket_tagging(Bucket="boto-versions")["TagSet"])
s3.delete_bucket_tagging(Bucket="boto-versions")
try:
    s3.get_bucket_tagging(Bucket="boto-versions")
except ClientError as e:
    out["tags_deleted"] = e.response["Error"]["Code"]
s3.delete_bucket(Bucket="boto-versions")
print(json.dumps(out))
