/// An S3 error as the API returns it: a code, its HTTP status, a message, and the resource.
public struct S3Error: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: String
    public var status: Int
    public var message: String
    /// Extra elements of the XML error body (`BucketName`, `Key`, `UploadId`, …).
    public var details: [(String, String)]
    /// Response headers that go with the error (`x-amz-delete-marker`, `x-amz-version-id`, …).
    public var headers: [(String, String)]

    public init(
        _ code: String, status: Int? = nil, message: String? = nil, details: [(String, String)] = [], headers: [(String, String)] = []
    ) {
        self.code = code
        self.status = status ?? S3Error.statuses[code] ?? 400
        self.message = message ?? S3Error.messages[code] ?? code
        self.details = details
        self.headers = headers
    }

    public static func == (a: S3Error, b: S3Error) -> Bool {
        a.code == b.code && a.status == b.status && a.message == b.message
            && a.details.map { "\($0.0)=\($0.1)" } == b.details.map { "\($0.0)=\($0.1)" }
    }

    public var description: String { "\(code) (\(status)): \(message)" }

    static let statuses: [String: Int] = [
        "AccessDenied": 403, "AccountProblem": 403, "InvalidAccessKeyId": 403, "SignatureDoesNotMatch": 403,
        "RequestTimeTooSkewed": 403, "NoSuchBucket": 404, "NoSuchKey": 404, "NoSuchVersion": 404, "NoSuchUpload": 404, "NoSuchTagSet": 404,
        "NoSuchBucketPolicy": 404, "NoSuchCORSConfiguration": 404, "NoSuchLifecycleConfiguration": 404,
        "MethodNotAllowed": 405, "BucketAlreadyExists": 409, "BucketAlreadyOwnedByYou": 409, "BucketNotEmpty": 409,
        "OperationAborted": 409, "MissingContentLength": 411, "PreconditionFailed": 412, "InvalidRange": 416,
        "InternalError": 500, "NotImplemented": 501, "ServiceUnavailable": 503, "SlowDown": 503,
        "RequestTimeout": 400, "EntityTooLarge": 400,
    ]

    static let messages: [String: String] = [
        "AccessDenied": "Access Denied",
        "BadDigest": "The Content-MD5 or checksum value that you specified did not match what the server received.",
        "BucketAlreadyExists": "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        "BucketAlreadyOwnedByYou": "Your previous request to create the named bucket succeeded and you already own it.",
        "BucketNotEmpty": "The bucket you tried to delete is not empty.",
        "EntityTooLarge": "Your proposed upload exceeds the maximum allowed object size.",
        "EntityTooSmall": "Your proposed upload is smaller than the minimum allowed object size.",
        "IncompleteBody": "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        "InternalError": "We encountered an internal error. Please try again.",
        "InvalidAccessKeyId": "The AWS Access Key Id you provided does not exist in our records.",
        "InvalidArgument": "Invalid Argument",
        "InvalidBucketName": "The specified bucket is not valid.",
        "InvalidDigest": "The Content-MD5 you specified is not valid.",
        "InvalidPart": "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
        "InvalidPartOrder": "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        "InvalidRange": "The requested range is not satisfiable",
        "InvalidRequest": "Invalid Request",
        "KeyTooLongError": "Your key is too long.",
        "MalformedXML": "The XML you provided was not well-formed or did not validate against our published schema.",
        "MetadataTooLarge": "Your metadata headers exceed the maximum allowed metadata size.",
        "MethodNotAllowed": "The specified method is not allowed against this resource.",
        "MissingContentLength": "You must provide the Content-Length HTTP header.",
        "MissingRequestBodyError": "Request Body is empty.",
        "NoSuchBucket": "The specified bucket does not exist.",
        "NoSuchKey": "The specified key does not exist.",
        "NoSuchUpload": "The specified upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
        "NoSuchTagSet": "The TagSet does not exist",
        "NoSuchVersion": "The specified version does not exist.",
        "IllegalVersioningConfigurationException": "The versioning configuration specified in the request is invalid.",
        "NotImplemented": "A header or query you provided implies functionality that is not implemented.",
        "PreconditionFailed": "At least one of the pre-conditions you specified did not hold",
        "RequestTimeTooSkewed": "The difference between the request time and the current time is too large.",
        "RequestTimeout": "Your socket connection to the server was not read from or written to within the timeout period.",
        "ServiceUnavailable": "Please reduce your request rate.",
        "SignatureDoesNotMatch": "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        "XAmzContentSHA256Mismatch": "The provided 'x-amz-content-sha256' header does not match what was computed.",
        "InvalidTag": "The TagSet you have provided is invalid.",
        "TooManyBuckets": "You have attempted to create more buckets than allowed.",
        "InvalidLocationConstraint": "The specified location constraint is not valid.",
        "MalformedACLError": "The XML you provided was not well-formed or did not validate against our published schema.",
        "InvalidEncodingType": "Invalid Encoding Method specified in Request",
        "UnexpectedContent": "This request does not support content.",
        "RequestHeaderSectionTooLarge": "Your request header section exceeds the maximum allowed size.",
        "MaxMessageLengthExceeded": "Your request was too big.",
    ]

    // Shorthands for the common ones.
    public static func noSuchBucket(_ b: String) -> S3Error { S3Error("NoSuchBucket", details: [("BucketName", b)]) }
    public static func noSuchKey(_ k: String) -> S3Error { S3Error("NoSuchKey", details: [("Key", k)]) }
    public static func noSuchUpload(_ u: String) -> S3Error { S3Error("NoSuchUpload", details: [("UploadId", u)]) }
    public static let accessDenied = S3Error("AccessDenied")
    public static func invalidArgument(_ m: String, name: String? = nil, value: String? = nil) -> S3Error {
        var d: [(String, String)] = []
        if let name { d.append(("ArgumentName", name)) }
        if let value { d.append(("ArgumentValue", value)) }
        return S3Error("InvalidArgument", message: m, details: d)
    }
    public static func invalidRequest(_ m: String) -> S3Error { S3Error("InvalidRequest", message: m) }
    public static let internalError = S3Error("InternalError")
    public static let requestTimeout = S3Error("RequestTimeout")
    public static let notImplemented = S3Error("NotImplemented")

    /// The XML body S3 sends with the error.
    public func xml(resource: String, requestID: String, hostID: String = "") -> String {
        var x = XMLWriter()
        x.open("Error")
        x.element("Code", code)
        x.element("Message", message)
        for (k, v) in details { x.element(k, v) }
        x.element("Resource", resource)
        x.element("RequestId", requestID)
        x.element("HostId", hostID)
        x.close("Error")
        return x.document
    }
}
