import Yams

/// The YAML file as written: every key optional, so that defaults fill what is left out.
///
/// Keys are camelCase. `Config/sigillumd.example.yaml` documents each one with its type and default.
struct ConfigurationFile: Decodable {
    var stateDirectory: String?
    var listen: String?
    var adminListen: String?
    var http: HTTP?
    var ledger: Ledger?
    var tsa: TSA?
    var ocsp: OCSP?
    var clock: Clock?

    struct HTTP: Decodable {
        var maxRequestBytes: Int?
        var idleTimeoutSeconds: Int?
        var drainSeconds: Int?
    }

    struct Ledger: Decodable {
        var path: String?
        var maxBatchSize: Int?
        var instanceId: UInt32?
    }

    struct Signer: Decodable {
        var type: String?
        var keyFile: String?
        var certificateFile: String?
        var chainFile: String?
        var rsaPadding: String?
        var passphraseFile: String?
        var passphraseEnv: String?
        var passphraseCredential: String?
        var module: String?
        var tokenLabel: String?
        var tokenSerial: String?
        var keyLabel: String?
        var keyId: String?
        var pinFile: String?
        var pinEnv: String?
        var pinCredential: String?
        var sessions: Int?
        var readers: [String]?
        var slot: String?
        var queueWaitMillis: Int?

        init(
            type: String? = nil, keyFile: String? = nil, certificateFile: String? = nil, chainFile: String? = nil,
            rsaPadding: String? = nil
        ) {
            self.type = type
            self.keyFile = keyFile
            self.certificateFile = certificateFile
            self.chainFile = chainFile
            self.rsaPadding = rsaPadding
        }
    }

    struct Policy: Decodable {
        var oid: String
        var qualified: Bool?
        var `default`: Bool?
    }

    /// `accuracy: {seconds, millis, micros}`, or `accuracy: dynamic` for the clock bound at the moment of issue.
    struct Accuracy: Decodable {
        var seconds: Int?
        var millis: Int?
        var micros: Int?
        /// The single value given instead of a mapping; only `dynamic` is valid (checked by the loader).
        var word: String?
        var dynamic: Bool { self.word == "dynamic" }

        init(seconds: Int? = nil, millis: Int? = nil, micros: Int? = nil, word: String? = nil) {
            self.seconds = seconds
            self.millis = millis
            self.micros = micros
            self.word = word
        }

        enum CodingKeys: String, CodingKey {
            case seconds, millis, micros
        }

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.word = text
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.seconds = try container.decodeIfPresent(Int.self, forKey: .seconds)
            self.millis = try container.decodeIfPresent(Int.self, forKey: .millis)
            self.micros = try container.decodeIfPresent(Int.self, forKey: .micros)
        }
    }

    struct Clock: Decodable {
        var enforce: Bool?
        var servers: [String]?
        var probeInterval: Double?
        var probeTimeout: Double?
        var maxError: Double?
        var reopenAfter: Int?
        var leapMargin: Double?
        var chrony: String?
        var chronySocket: String?
    }

    struct TSA: Decodable {
        var enabled: Bool?
        var signer: Signer?
        var policies: [Policy]?
        var acceptedHashAlgorithms: [String]?
        var accuracy: Accuracy?
        var ordering: Bool?
        var includeTSAName: Bool?
        var includeChain: Bool?
        var orderingWaitMillis: Int?
    }

    struct OCSPStatus: Decodable {
        var index: String?
        var crl: String?
        var ledger: Bool?
    }

    struct OCSPIssuer: Decodable {
        var certificateFile: String?
        var signer: Signer?
        var responderID: String?
        var status: OCSPStatus?
        var nonIssuedIsRevoked: Bool?
    }

    struct OCSP: Decodable {
        var enabled: Bool?
        var issuers: [OCSPIssuer]?
        var maxCertIDs: Int?
        var validitySeconds: Int?
        var refreshFraction: Double?
        var nonces: String?
        var requireSignedRequests: Bool?
        var sourcePollMilliseconds: Int?
    }

    static let signerSchema: KeySchema = .mapping([
        "type": .scalar, "keyFile": .scalar, "certificateFile": .scalar, "chainFile": .scalar, "rsaPadding": .scalar,
        "passphraseFile": .scalar, "passphraseEnv": .scalar, "passphraseCredential": .scalar, "module": .scalar,
        "tokenLabel": .scalar, "tokenSerial": .scalar, "keyLabel": .scalar, "keyId": .scalar, "pinFile": .scalar,
        "pinEnv": .scalar, "pinCredential": .scalar, "sessions": .scalar, "readers": .sequence(.scalar),
        "slot": .scalar, "queueWaitMillis": .scalar,
    ])

    /// The keys each mapping may hold; anything else is a typo the user must hear about.
    static let schema: KeySchema = .mapping([
        "stateDirectory": .scalar,
        "listen": .scalar,
        "adminListen": .scalar,
        "http": .mapping(["maxRequestBytes": .scalar, "idleTimeoutSeconds": .scalar, "drainSeconds": .scalar]),
        "ledger": .mapping(["path": .scalar, "maxBatchSize": .scalar, "instanceId": .scalar]),
        "tsa": .mapping([
            "enabled": .scalar,
            "signer": signerSchema,
            "policies": .sequence(.mapping(["oid": .scalar, "qualified": .scalar, "default": .scalar])),
            "acceptedHashAlgorithms": .sequence(.scalar),
            "accuracy": .scalarOrMapping(["seconds": .scalar, "millis": .scalar, "micros": .scalar]),
            "ordering": .scalar,
            "includeTSAName": .scalar,
            "includeChain": .scalar,
            "orderingWaitMillis": .scalar,
        ]),
        "clock": .mapping([
            "enforce": .scalar, "servers": .sequence(.scalar), "probeInterval": .scalar, "probeTimeout": .scalar,
            "maxError": .scalar, "reopenAfter": .scalar, "leapMargin": .scalar, "chrony": .scalar,
            "chronySocket": .scalar,
        ]),
        "ocsp": .mapping([
            "enabled": .scalar,
            "issuers": .sequence(
                .mapping([
                    "certificateFile": .scalar,
                    "signer": signerSchema,
                    "responderID": .scalar,
                    "status": .mapping(["index": .scalar, "crl": .scalar, "ledger": .scalar]),
                    "nonIssuedIsRevoked": .scalar,
                ])
            ),
            "maxCertIDs": .scalar,
            "validitySeconds": .scalar,
            "refreshFraction": .scalar,
            "nonces": .scalar,
            "requireSignedRequests": .scalar,
            "sourcePollMilliseconds": .scalar,
        ]),
    ])
}

/// The shape of the configuration, for rejecting unknown keys with their path.
indirect enum KeySchema: Sendable {
    case scalar
    case sequence(KeySchema)
    case mapping([String: KeySchema])
    /// A single value or a mapping with these keys (e.g. `accuracy: dynamic` or `accuracy: {millis: 500}`).
    case scalarOrMapping([String: KeySchema])

    func check(_ node: Node, path: String) throws(ConfigError) {
        switch (self, node) {
        case (.mapping(let keys), .mapping(let mapping)):
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? "\(keyNode)"
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let child = keys[key] else {
                    throw .unknownKey(childPath, known: Array(keys.keys))
                }
                try child.check(value, path: childPath)
            }
        case (.sequence(let element), .sequence(let sequence)):
            for (index, value) in sequence.enumerated() {
                try element.check(value, path: "\(path)[\(index)]")
            }
        case (.scalar, .scalar), (.scalarOrMapping, .scalar):
            return
        case (.scalarOrMapping(let keys), .mapping):
            try KeySchema.mapping(keys).check(node, path: path)
        case (_, .scalar(let scalar)) where scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null":
            return  // an empty value: the default applies
        case (.mapping, _), (.scalarOrMapping, _):
            throw .invalid(path.isEmpty ? "(top level)" : path, "expected a mapping of settings")
        case (.sequence, _):
            throw .invalid(path, "expected a list")
        case (.scalar, _):
            throw .invalid(path, "expected a single value")
        }
    }
}
