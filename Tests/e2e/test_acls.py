"""ACLs as S3 documents them: every canned ACL, grants by header and by document to another
tenant's user (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL), and ownership controls
(BucketOwnerEnforced turns ACLs off)."""
import pytest
import requests
from botocore.exceptions import ClientError

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def code(e):
    return e.value.response["Error"]["Code"]


def grants(acl):
    return sorted((g["Grantee"].get("URI") or g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"])


@pytest.mark.parametrize("canned,expected", [
    ("private", []),
    ("public-read", [(ALL_USERS, "READ")]),
    ("public-read-write", [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")]),
    ("authenticated-read", [(AUTH_USERS, "READ")]),
])
def test_every_canned_bucket_acl(voss, s3, new_bucket, canned, expected):
    b = new_bucket(s3, ACL=canned)
    owner = voss.identity("acme", "alice").tenant_id
    assert grants(s3.get_bucket_acl(Bucket=b)) == sorted([(owner, "FULL_CONTROL")] + expected)
    other = voss.client(("globex", "gina"))
    can_list = canned != "private"
    try:
        other.list_objects_v2(Bucket=b)
        listed = True
    except ClientError:
        listed = False
    assert listed == can_list
    anonymous = requests.get(voss.resource_url(b)).status_code == 200
    assert anonymous == (canned in ("public-read", "public-read-write"))
    try:
        other.put_object(Bucket=b, Key="from-gina", Body=b"x")
        wrote = True
    except ClientError:
        wrote = False
    assert wrote == (canned == "public-read-write")


def test_object_acls_and_grants_to_another_tenants_user(voss, s3, bucket):
    gina = voss.identity("globex", "gina")
    other = voss.client(("globex", "gina"))
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", GrantRead=f'id="{gina.tenant_id}"', GrantReadACP=f'id="{gina.tenant_id}"')
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert (gina.tenant_id, "READ_ACP") in grants(other.get_object_acl(Bucket=bucket, Key="k"))
    with pytest.raises(ClientError) as e:  # READ_ACP is not WRITE_ACP
        other.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    assert code(e) == "AccessDenied"
    # A document with FULL_CONTROL for the tenant lets it change the ACL.
    owner = voss.identity("acme", "alice").tenant_id
    s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy={
        "Owner": {"ID": owner},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": gina.tenant_id}, "Permission": "FULL_CONTROL"}]})
    other.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    assert requests.get(voss.resource_url(bucket, "k")).status_code == 200
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key="k", GrantRead="emailAddress=someone@example.com")
    assert code(e) == "UnresolvableGrantByEmailAddress"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ACL="public-read", GrantRead=f'id="{gina.tenant_id}"')
    assert code(e) == "InvalidRequest"


def test_bucket_owner_enforced_turns_acls_off(voss, s3, new_bucket):
    b = new_bucket(s3, ObjectOwnership="BucketOwnerEnforced")
    assert s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=b, Key="k", Body=b"x", ACL="public-read")
    assert code(e) == "AccessControlListNotSupported"
    s3.put_object(Bucket=b, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=b, ACL="public-read")
    assert code(e) == "AccessControlListNotSupported"
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_bucket_acl(Bucket=b, ACL="public-read")
    with pytest.raises(ClientError) as e:  # back to enforced while an ACL grants access
        s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert code(e) == "InvalidBucketAclWithObjectOwnership"
    s3.delete_bucket_ownership_controls(Bucket=b)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_ownership_controls(Bucket=b)
    assert code(e) == "OwnershipControlsNotFoundError"
