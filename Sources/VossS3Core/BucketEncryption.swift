/// A bucket's default encryption (PutBucketEncryption). Only SSE-S3 (`AES256`) is offered; SSE-KMS
/// answers 501 (there is no KMS behind VOSS), anything else is `MalformedXML`.
public struct BucketEncryption: Codable, Equatable, Sendable {
    public var algorithm: String
    public var bucketKeyEnabled: Bool

    public init(algorithm: String = "AES256", bucketKeyEnabled: Bool = false) {
        self.algorithm = algorithm
        self.bucketKeyEnabled = bucketKeyEnabled
    }

    public static func parse(_ body: [UInt8]) -> Result<BucketEncryption, S3Error> {
        guard let root = try? XMLParser.parse(body), root.name == "ServerSideEncryptionConfiguration" else {
            return .failure(S3Error("MalformedXML"))
        }
        let rules = root.children.filter { $0.name == "Rule" }
        guard rules.count == 1, let rule = rules.first, let apply = rule.child("ApplyServerSideEncryptionByDefault"),
            let algorithm = apply.childText("SSEAlgorithm")
        else { return .failure(S3Error("MalformedXML")) }
        switch algorithm {
        case "AES256": break
        case "aws:kms", "aws:kms:dsse":
            return .failure(
                S3Error(
                    "NotImplemented", status: 501, message: "SSE-KMS is not offered by this service; use AES256 (SSE-S3).",
                    details: [("SSEAlgorithm", algorithm)]))
        default: return .failure(S3Error("MalformedXML"))
        }
        if apply.child("KMSMasterKeyID") != nil {
            return .failure(
                S3Error.invalidArgument(
                    "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                    name: "ApplyServerSideEncryptionByDefault"))
        }
        switch rule.childText("BucketKeyEnabled") {
        case nil, "false": return .success(BucketEncryption(algorithm: algorithm, bucketKeyEnabled: false))
        case "true": return .success(BucketEncryption(algorithm: algorithm, bucketKeyEnabled: true))
        default: return .failure(S3Error("MalformedXML"))
        }
    }

    public var xml: String {
        var x = XMLWriter()
        x.open("ServerSideEncryptionConfiguration", xmlns: true)
        x.open("Rule")
        x.open("ApplyServerSideEncryptionByDefault")
        x.element("SSEAlgorithm", algorithm)
        x.close("ApplyServerSideEncryptionByDefault")
        x.element("BucketKeyEnabled", bucketKeyEnabled ? "true" : "false")
        x.close("Rule")
        x.close("ServerSideEncryptionConfiguration")
        return x.document
    }
}
