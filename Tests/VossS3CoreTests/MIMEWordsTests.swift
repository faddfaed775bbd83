import Testing
import VossS3Core

/// RFC 2047 words in user metadata (the examples of RFC 2047 §8 among them).
@Suite struct MIMEWordsTests {
    @Test(arguments: [
        ("=?ISO-8859-1?Q?a?=", "a"),
        ("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab"),
        ("=?ISO-8859-1?Q?a?=  \t =?ISO-8859-1?Q?b?=", "ab"),
        ("=?ISO-8859-1?Q?a_b?=", "a b"),
        ("=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"),
        ("=?ISO-8859-1?Q?Andr=E9?=", "André"),
        ("=?utf-8?b?aMOpbGxvIOKckw==?=", "héllo ✓"),
        ("=?UTF-8*en?B?w6k=?=", "é"),
    ])
    func encodedWordsAreDecoded(_ sent: String, _ stored: String) {
        #expect(MIMEWords.decode(sent) == stored)
    }

    @Test(arguments: [
        "plain", "=?ISO-8859-1?Q?a?= b", "=?UTF-8?B?not base64!?=", "=?UTF-8?Q?=Z1?=", "=?KOI8-R?Q?x?=", "=??Q?x?=", "=?UTF-8?X?x?=",
        "=?UTF-8?B?/w==?=",  // 0xFF is not UTF-8
        "=?US-ASCII?Q?=E9?=", "=?", "?=", "=?=",
    ])
    func anythingElseIsKeptAsSent(_ sent: String) {
        #expect(MIMEWords.decode(sent) == sent)
    }

    @Test func onlyValuesOutsidePrintableASCIIAreEncoded() {
        #expect(MIMEWords.encode("Hello World") == "Hello World")
        #expect(MIMEWords.encode("héllo ✓") == "=?UTF-8?B?aMOpbGxvIOKckw==?=")
        #expect(MIMEWords.decode(MIMEWords.encode("日本語のメタデータ")) == "日本語のメタデータ")
    }
}
