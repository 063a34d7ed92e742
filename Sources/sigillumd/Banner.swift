import ApplianceConfig
import Foundation
import Logging

/// What `sigillumd` prints once both listeners are bound: the URLs and commands that work when pasted.
struct Banner: Sendable {
    let configuration: ApplianceConfiguration

    func print(publicPort: Int, adminPort: Int, logger: Logger) {
        let host = Self.urlHost(self.configuration.listen.host)
        let adminHost = Self.urlHost(self.configuration.adminListen.host)
        let tsaURL = "http://\(host):\(publicPort)/tsa"
        let state = self.configuration.stateDirectory
        var lines = [
            "sigillumd \(SigillumVersion.current) is serving",
            "  TSA (RFC 3161):  POST \(tsaURL)",
            "  health:          http://\(adminHost):\(adminPort)/health",
            "  metrics:         http://\(adminHost):\(adminPort)/metrics",
            "  state:           \(state)",
        ]
        if self.configuration.isDevelopmentDefault {
            let sample = "\(state)/sample.txt"
            lines += [
                "",
                "Try it from another terminal (development PKI in \(state)/pki):",
                "  echo 'Hello, Sigillum' > \(Self.quote(sample))",
                "  openssl ts -query -data \(Self.quote(sample)) -sha256 -cert -out /tmp/sigillum-sample.tsq",
                "  curl -sS -H 'Content-Type: application/timestamp-query' --data-binary @/tmp/sigillum-sample.tsq \(tsaURL) -o /tmp/sigillum-sample.tsr",
                "  openssl ts -reply -in /tmp/sigillum-sample.tsr -text",
                "  openssl ts -verify -in /tmp/sigillum-sample.tsr -data \(Self.quote(sample)) -CAfile \(Self.quote(state + "/pki/root-ca.pem")) -untrusted \(Self.quote(state + "/pki/issuing-ca.pem"))",
            ]
        }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        logger.info("serving", metadata: ["http.public": "\(tsaURL)", "http.admin": "\(adminHost):\(adminPort)"])
    }

    static func urlHost(_ host: String) -> String {
        if host == "0.0.0.0" { return "127.0.0.1" }
        if host == "::" { return "[::1]" }
        return host.contains(":") ? "[\(host)]" : host
    }

    /// Single-quotes a path for the shell when it needs it.
    static func quote(_ path: String) -> String {
        let plain = path.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:@".contains($0) }
        return plain ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
