import Testing

@testable import VossS3Gateway

/// The access key a request claims, read before verifying (to look up its secret): the first
/// non-empty `/`-separated part of the credential, from the header or the presigned query.
@Suite struct ClaimedAccessKeyTests {
    @Test(arguments: [
        ("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", "AKID"),
        ("AWS4-HMAC-SHA256 Credential=//AKID/20130524", "AKID"),
        ("AWS4-HMAC-SHA256 Credential=AKID", "AKID"),
        ("AWS4-HMAC-SHA256 Credential=", nil),
        ("AWS4-HMAC-SHA256 Credential=///", nil),
        ("AWS4-HMAC-SHA256 SignedHeaders=host", nil),
        ("AWS4-HMAC-SHA256 Credential=键/20130524", "键"),
    ] as [(String, String?)])
    func fromTheHeader(_ header: String, _ key: String?) {
        #expect(IdentityCache.claimedAccessKey(authorization: header, query: [:]) == key)
    }

    @Test func fromThePresignedQuery() {
        #expect(IdentityCache.claimedAccessKey(authorization: nil, query: ["X-Amz-Credential": "AKID/20130524/us-east-1/s3/aws4_request"]) == "AKID")
        #expect(IdentityCache.claimedAccessKey(authorization: nil, query: ["X-Amz-Credential": "/"]) == nil)
        #expect(IdentityCache.claimedAccessKey(authorization: nil, query: [:]) == nil)
    }
}
