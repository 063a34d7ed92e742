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
            "  public:          http://\(host):\(publicPort)",
            self.configuration.tsa.enabled
                ? "  TSA (RFC 3161):  POST \(tsaURL)" : "  TSA (RFC 3161):  disabled (tsa.enabled: false)",
            self.configuration.ocsp.enabled
                ? "  OCSP (RFC 6960): POST http://\(host):\(publicPort)/ocsp, GET http://\(host):\(publicPort)/ocsp/{base64}"
                : "  OCSP (RFC 6960): disabled",
            "  status page:     http://\(adminHost):\(adminPort)/",
            "  health:          http://\(adminHost):\(adminPort)/health",
            "  metrics:         http://\(adminHost):\(adminPort)/metrics",
            "  state:           \(state)",
            "  clock gate:      " + Self.clockLine(self.configuration.clock),
        ]
        if self.configuration.isDevelopmentDefault && self.configuration.tsa.enabled {
            // The sample files live in the state directory: nothing shared in /tmp to collide with or be planted.
            let sample = Self.quote(state + "/sample.txt")
            let query = Self.quote(state + "/sample.tsq")
            let reply = Self.quote(state + "/sample.tsr")
            lines += [
                "",
                "Try it from another terminal (development PKI in \(state)/pki):",
                "  echo 'Hello, Sigillum' > \(sample)",
                "  openssl ts -query -data \(sample) -sha256 -cert -out \(query)",
                "  curl -sS -H 'Content-Type: application/timestamp-query' --data-binary @\(query) \(tsaURL) -o \(reply)",
                "  openssl ts -reply -in \(reply) -text",
                "  openssl ts -verify -in \(reply) -data \(sample) -CAfile \(Self.quote(state + "/pki/root-ca.pem")) "
                    + "-untrusted \(Self.quote(state + "/pki/issuing-ca.pem"))",
            ]
        }
        if self.configuration.isDevelopmentDefault && self.configuration.ocsp.enabled {
            let pki = state + "/pki/"
            lines += [
                "",
                "Check a certificate's status (ee-revoked.pem is revoked, ee-good.pem is good):",
                "  openssl ocsp -issuer \(Self.quote(pki + "issuing-ca.pem")) -cert \(Self.quote(pki + "ee-revoked.pem")) "
                    + "-url http://\(host):\(publicPort)/ocsp -CAfile \(Self.quote(pki + "root-ca.pem")) "
                    + "-verify_other \(Self.quote(pki + "issuing-ca.pem")) -resp_text",
            ]
        }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        logger.info("serving", metadata: ["http.public": "\(tsaURL)", "http.admin": "\(adminHost):\(adminPort)"])
    }

    static func clockLine(_ clock: ClockSettings) -> String {
        guard clock.enforce else {
            return "disabled (development: tokens without proof of UTC; --ntp-server HOST[:PORT] enforces it)"
        }
        let servers = clock.servers.isEmpty ? "kernel/chrony only" : clock.servers.joined(separator: ", ")
        return "enforced, max error \(clock.maximumErrorSeconds) s, every \(clock.probeIntervalSeconds) s: \(servers)"
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
