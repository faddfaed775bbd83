#!/usr/bin/env python3
"""Writes the seed corpora (Fuzz/corpus/<target>/) — run once by hand when seeds change; the files
are committed. Each seed is a valid or near-valid input, plus the inputs that once trapped."""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
AUTH4 = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
         "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
         "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")

SEEDS = {
    "upstream": [
        '<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>2'
        '</NextPartNumberMarker><Part><PartNumber>1</PartNumber><ETag>"0123"</ETag><Size>5242880</Size></Part>'
        '<Part><PartNumber>2</PartNumber><ETag>"4567"</ETag><Size>9223372036854775807</Size></Part></ListPartsResult>',
        '<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>',
        '<CopyObjectResult><LastModified>2026-12-02T10:00:00.000Z</LastModified><ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>',
        '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>2~abc</UploadId></InitiateMultipartUploadResult>',
        '<ListMultipartUploadsResult><Upload><Key>k</Key><UploadId>u1</UploadId></Upload></ListMultipartUploadsResult>',
        '<ListAllMyBucketsResult><Buckets><Bucket><Name>voss-1</Name></Bucket></Buckets></ListAllMyBucketsResult>',
        "http://127.0.0.1:7480", "https://[::1]:99999", "http://h:٨٠",
    ],
    "httpdate": [
        "Fri, 24 May 2013 00:00:00 GMT", "Sat, 1 Jan 2000 00:00:00 GMT", "2013-05-24T00:00:00Z", "2013-05-24T00:00:00.123Z",
        "20130524T000000Z", "Fri, 01 Jan 99999999999999999 00:00:00 GMT", "Fri, 01 Jan 2020 9999999999999999:00:00 GMT",
        "٢٠٢٠-٠١-٠١T٠٠:٠٠:٠٠Z", "Thu, 29 Feb 2024 23:59:60 GMT", "9223372036854775807",
    ],
    "sigv4": [
        "GET\n/test.txt\n\nHost: examplebucket.s3.amazonaws.com\nRange: bytes=0-9\n"
        "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        f"x-amz-date: 20130524T000000Z\nAuthorization: {AUTH4}",
        "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost: examplebucket.s3.amazonaws.com",
        "PUT\n/b/k\n\nHost: h\nDate: Fri, 9223372036854775807 Jan 2020 00:00:00 GMT\nx-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=NOPE/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;date, Signature=00",
        "GET\n/%zz\na=%\nAuthorization: Bearer x",
    ],
    "sigv2": [
        "GET\n/b/k\n\nHost: h\nDate: Fri, 24 May 2013 00:00:00 GMT\nAuthorization: AWS AKID:frJIUN8DYpKDtOLCwo//yllqDzg=",
        "GET\n/b/k\nAWSAccessKeyId=AKID&Expires=1369353600&Signature=x%2By\nHost: h",
        "GET\n/b\nAWSAccessKeyId=A&Expires=99999999999999999999999&Signature=x\n",
        "GET\n/b/k\n\nAuthorization: AWS NOPE:abc=\nDate: Fri, 01 Jan 99999999999999999 00:00:00 GMT",
    ],
    "range": [
        "bytes=0-9\n\"abc\"\n\"abc\"\nFri, 24 May 2013 00:00:00 GMT\nFri, 24 May 2013 00:00:00 GMT\na=b&c=d",
        "bytes=-500\n*\n\n\n\nk=%ZZ", "bytes=99999999999999999999-\n\n\n٢٠٢٠\n", "bytes=5-1,2-3\nW/\"x\"",
    ],
    "xml": [
        '<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object></Delete>',
        "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag></Part></CompleteMultipartUpload>",
        "<a><![CDATA[x]]><!-- c --><b x='1'>&#x41;&#65;&lt;</b></a>", "<a>&#99999999999999999999;</a>", "<" * 50,
        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
        "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
        "<AllowedHeader>x-amz-*</AllowedHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::T:root"]},'
        '"Action":["s3:Get*"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},'
        '"NumericLessThan":{"s3:max-keys":"10"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}',
        "<LifecycleConfiguration><Rule><ID>a</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
        "<ObjectSizeGreaterThan>1</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Days>3</Days>"
        "</Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>"
        "</LifecycleConfiguration>",
        "--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--b\r\nContent-Disposition: form-data; "
        "name=\"file\"; filename=\"f\"\r\n\r\ndata\r\n--b--\r\n",
        # Once trapped (a NUL in an origin was accepted, then did not survive the rule's own XML).
        "<CORSConfiguration><CORSRule><AllowedOrigin>http\xd9\0\0\0*.example.com</AllowedOrigin><AllowedMethod>GET"
        "</AllowedMethod></CORSRule></CORSConfiguration>",
    ],
    "routing": [
        "GET\n/bucket/key%20x\nlist-type=2&prefix=a\nHost: 127.0.0.1",
        "PUT\n/b/k\npartNumber=1&uploadId=x\nHost: b.s3.example.com\nx-amz-copy-source: /a/b",
        "POST\n/b\ndelete\nHost: [::1]:9000\nx-amz-meta-a: b", "GET\n/b/k%00evil\n\nHost: h",
        "PUT\n/b/k\n\nHost: h\nx-amz-meta-a: =?UTF-8?Q?h=C3=A9llo?= =?ISO-8859-1?B?6Q==?=",
        "OPTIONS\n/b/k\nversionId=null\nHost: h\nOrigin: https://a.example.com",
        "PUT\n/api/v1/buckets/b/objects/a%2Fb%2F%3Cimg%3E\n\nHost: h\nAuthorization: Bearer x",
        "POST\n/api/v1/buckets/b/uploads/%ZZ/parts/99999999999999999999\n\nHost: h",
    ],
}


def chunked(sizes, signed):
    out = b""
    for n in sizes:
        ext = b";chunk-signature=" + b"0" * 64 if signed else b""
        out += f"{n:x}".encode() + ext + b"\r\n" + b"a" * n + b"\r\n"
    return out


def write(target, i, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"seed-{i:02d}"), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def main():
    for target, seeds in SEEDS.items():
        for i, s in enumerate(seeds):
            write(target, i, s)
    aws = [b"\x05" + chunked([10, 0], False) + b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n",
           b"\x40" + chunked([100, 5, 0], True) + b"\r\n", b"\x00zz\r\n", b"\x03ffffffffffffffff\r\n"]
    for i, s in enumerate(aws):
        write("awschunked", i, s)
    # body: mode byte (0 signed, 1 signed + trailer, 2 unsigned trailer, 3 plain), cut byte, then the body.
    body = [b"\x00\x10" + chunked([5, 0], True) + b"\r\n", b"\x01\x05" + chunked([10, 0], True)
            + b"x-amz-checksum-crc32c:AAAAAA==\r\nx-amz-trailer-signature:" + b"0" * 64 + b"\r\n\r\n",
            b"\x02\x07" + chunked([3, 0], False) + b"x-amz-checksum-crc64nvme:AAAAAAAAAAA=\r\n\r\n", b"\x03\x00hello"]
    for i, s in enumerate(body):
        write("body", i, s)
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    v4 = sig + bytes([0x21, 0x11]) + struct.pack(">H", 12) + bytes([192, 0, 2, 7, 10, 0, 0, 1]) + struct.pack(">HH", 40000, 80)
    v6 = sig + bytes([0x21, 0x21]) + struct.pack(">H", 36) + bytes(16) + bytes(16) + struct.pack(">HH", 1, 2)
    for i, s in enumerate([v4, v6, sig + bytes([0x20, 0x00, 0, 0]), sig + bytes([0x21, 0x11, 0xff, 0xff])]):
        write("proxyv2", i, s)
    for i, s in enumerate([b'{"kind":"ping","seq":1}', b'{"members":[],"config":{}}', b"\x01" + bytes(40), b"[" * 100]):
        write("gossip", i, s)
    for i, s in enumerate([struct.pack(">I", 3) + b"abc", struct.pack(">I", 0xFFFFFFFF), b"\x00\x00"]):
        write("frame", i, s)
    # fasthead: raw request heads as clients send them, and near misses a lenient parser would take.
    presigned = ("GET /bench/4KiB?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261203%2F"
                 "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261203T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                 "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 HTTP/1.1\r\n"
                 "Host: 127.0.0.1:9000\r\nUser-Agent: python-requests/2.32\r\nAccept-Encoding: gzip, deflate\r\n"
                 "Accept: */*\r\nConnection: keep-alive\r\n\r\n")
    awscli = ("HEAD /b/k HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nAccept-Encoding: identity\r\n"
              "User-Agent: aws-cli/2.22 md/Botocore#2.0\r\nX-Amz-Date: 20261203T000000Z\r\n"
              "X-Amz-Content-SHA256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n"
              f"Authorization: {AUTH4}\r\namz-sdk-invocation-id: 1\r\namz-sdk-request: attempt=1\r\n\r\n")
    heads = [presigned, awscli, presigned + awscli, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
             "GET /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nX-Empty:\r\nX-Tab:\t v \t\r\n\r\n",
             "GET /b/k HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "GET /b/k HTTP/1.1\nHost: h\n\n",
             "GET /b/k HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "GET /b/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             "GET /b/k HTTP/1.1\r\nHost : h\r\n\r\n", "GET /b/k HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
             "GET http://h/b/k HTTP/1.1\r\n\r\n", "GET /b/k HTTP/1.0\r\n\r\n", "GET /b/k#frag HTTP/1.1\r\n\r\n",
             "GET /b/k HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n"]
    for i, s in enumerate(heads):
        write("fasthead", i, s)


if __name__ == "__main__":
    main()
