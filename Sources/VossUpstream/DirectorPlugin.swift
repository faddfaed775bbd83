import VossChecksums

/// The portal as the director's UI plugin: a zip with `manifest.json` (the fields of the director's
/// UI plugin manifest) and a small AMD bundle that shows the VOSS portal (served by the gateway at
/// `OSE-URL/portal/`) in the director's page. The director loads the bundle for every user of a tenant
/// it was published to; the portal then signs the user in with the director's session token.
public enum DirectorPlugin {
    public static let name = "VOSS Object Storage"
    public static let vendor = "VOSS"
    public static let urn = "urn:voss:vcloud:plugin:object-storage"
    public static let fileName = "voss-portal-plugin.zip"

    public static func metadata(version: String, oseURL: String) -> DirectorUIPlugin {
        DirectorUIPlugin(
            pluginName: name, vendor: vendor, description: "Buckets, objects and access keys of VOSS object storage", version: version,
            license: "Apache-2.0", link: oseURL)
    }

    static func json(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out += u.value < 0x20 ? "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) : String(u)
            }
        }
        return out + "\""
    }

    public static func manifest(version: String, oseURL: String) -> String {
        """
        {
          "urn": \(json(urn)),
          "name": \(json(name)),
          "containerVersion": "9.1.0",
          "version": \(json(version)),
          "scope": ["tenant", "service-provider"],
          "permissions": [],
          "description": "Buckets, objects and access keys of VOSS object storage",
          "vendor": \(json(vendor)),
          "license": "Apache-2.0",
          "link": \(json(oseURL)),
          "route": "voss",
          "module": "VossModule",
          "bundle": "bundle.js",
          "oseUrl": \(json(oseURL))
        }

        """
    }

    /// Opens the portal in a frame below the director's header; the portal is told the director's
    /// session token by message (never in the URL) and exchanges it for a VOSS session.
    public static func bundle(oseURL: String) -> String {
        let portal = oseURL.hasSuffix("/") ? oseURL + "portal/" : oseURL + "/portal/"
        return """
            define([], function () {
              var PORTAL = \(json(portal));
              function VossModule() {}
              VossModule.mount = function (host, session) {
                var frame = document.createElement("iframe");
                frame.src = PORTAL + "?embedded=director";
                frame.style.cssText = "border:0;width:100%;height:calc(100vh - 96px)";
                // The portal says when it listens; only then, and only to the portal's origin, the token goes.
                window.addEventListener("message", function (e) {
                  if (e.source !== frame.contentWindow || !e.data || e.data.type !== "voss.ready") return;
                  frame.contentWindow.postMessage({ type: "voss.director-token", token: session && session.token }, new URL(PORTAL).origin);
                });
                host.appendChild(frame);
              };
              return { VossModule: VossModule };
            });

            """
    }

    public static func zip(version: String, oseURL: String) -> [UInt8] {
        Zip.stored([("manifest.json", Array(manifest(version: version, oseURL: oseURL).utf8)), ("bundle.js", Array(bundle(oseURL: oseURL).utf8))])
    }
}

/// A zip archive with stored (uncompressed) entries — all a plugin upload needs (PKWARE APPNOTE 4.3).
public enum Zip {
    public static func stored(_ files: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: UInt32, _ a: inout [UInt8]) { a += (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        for (name, data) in files {
            let crc = CRCs.crc32.checksum(data)
            let offset = UInt32(out.count)
            let n = Array(name.utf8)
            // Local file header.
            le32(0x0403_4B50, &out); le16(20, &out); le16(0x0800, &out); le16(0, &out); le16(0, &out); le16(0x21, &out)
            le32(crc, &out); le32(UInt32(data.count), &out); le32(UInt32(data.count), &out); le16(n.count, &out); le16(0, &out)
            out += n + data
            // Its central directory entry.
            le32(0x0201_4B50, &central); le16(20, &central); le16(20, &central); le16(0x0800, &central); le16(0, &central)
            le16(0, &central); le16(0x21, &central); le32(crc, &central); le32(UInt32(data.count), &central)
            le32(UInt32(data.count), &central); le16(n.count, &central); le16(0, &central); le16(0, &central); le16(0, &central)
            le16(0, &central); le32(0, &central); le32(offset, &central)
            central += n
        }
        let cdOffset = UInt32(out.count)
        out += central
        le32(0x0605_4B50, &out); le16(0, &out); le16(0, &out); le16(files.count, &out); le16(files.count, &out)
        le32(UInt32(central.count), &out); le32(cdOffset, &out); le16(0, &out)
        return out
    }
}
