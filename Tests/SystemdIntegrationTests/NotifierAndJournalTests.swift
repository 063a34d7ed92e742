import Logging
import Synchronization
import Testing

@testable import SystemdIntegration

@Suite("Service-manager notifications and journal fields")
struct NotifierAndJournalTests {
    /// Collects what a notifier would send.
    final class Sent: Sendable {
        let messages = Mutex<[String]>([])
        var all: [String] { self.messages.withLock { $0 } }
        func record(_ message: String) -> Bool {
            self.messages.withLock { $0.append(message) }
            return true
        }
    }

    @Test("READY, STATUS, RELOADING, WATCHDOG and STOPPING messages as sd_notify(3) defines them")
    func messages() {
        let sent = Sent()
        let notifier = ServiceManagerNotifier(isConnected: true) { sent.record($0) }
        notifier.ready(status: "serving;\n12 stamps")
        notifier.status("serving; 13 stamps")
        notifier.status("serving; 13 stamps")  // unchanged: not sent again
        notifier.watchdog()
        notifier.reloading(status: "reloading")
        notifier.stopping(status: "stopping")
        let messages = sent.all
        #expect(messages.count == 5)
        let ready = messages[0].split(separator: "\n").map(String.init)
        #expect(ready.contains("READY=1"))
        // A newline in the status would start a new assignment; it becomes a space.
        #expect(ready.contains("STATUS=serving; 12 stamps"))
        #expect(ready.contains { $0.hasPrefix("MAINPID=") })
        #expect(messages[1] == "STATUS=serving; 13 stamps")
        #expect(messages[2] == "WATCHDOG=1")
        let reloading = messages[3].split(separator: "\n").map(String.init)
        #expect(reloading.contains("RELOADING=1"))
        #expect(reloading.contains { $0.hasPrefix("MONOTONIC_USEC=") && UInt64($0.dropFirst(15)) != nil })
        #expect(messages[4].split(separator: "\n").contains("STOPPING=1"))
    }

    @Test("Without NOTIFY_SOCKET nothing is sent")
    func disconnected() {
        let sent = Sent()
        let notifier = ServiceManagerNotifier(isConnected: false) { sent.record($0) }
        #expect(!notifier.ready(status: "serving"))
        #expect(!notifier.watchdog())
        #expect(sent.all.isEmpty)
        #expect(!ServiceManagerNotifier(environment: [:]).isConnected)
        #expect(ServiceManagerNotifier(environment: ["NOTIFY_SOCKET": "/run/systemd/notify"]).isConnected)
    }

    @Test("Journal entries: priority, identifier, code location and one field per metadata key")
    func journalFields() {
        let fields = JournalLogHandler.fields(
            message: "token granted",
            level: .debug,
            label: "sigillumd",
            identifier: "sigillumd",
            metadata: [
                "sigillum.event": "tsa.granted",
                "tsa.serial": "01ab",
                "client.address": "127.0.0.1",
                "clock.bound_ns": .stringConvertible(1500),
                "watchdog.problems": .array(["a", "b"]),
            ],
            file: "TimeStampAuthority.swift",
            function: "respond(to:clientAddress:)",
            line: 42
        )
        #expect(fields.contains("MESSAGE=token granted"))
        #expect(fields.contains("PRIORITY=7"))
        #expect(fields.contains("SYSLOG_IDENTIFIER=sigillumd"))
        #expect(fields.contains("CODE_LINE=42"))
        #expect(fields.contains("SIGILLUM_EVENT=tsa.granted"))
        #expect(fields.contains("SIGILLUM_SERIAL=01ab"))
        #expect(fields.contains("SIGILLUM_TSA_SERIAL=01ab"))
        #expect(fields.contains("SIGILLUM_CLIENT=127.0.0.1"))
        #expect(fields.contains("SIGILLUM_CLOCK_BOUND_NS=1500"))
        #expect(fields.contains("SIGILLUM_WATCHDOG_PROBLEMS=[a, b]"))
    }

    @Test(
        "Syslog priorities per level",
        arguments: [
            (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
        ])
    func priorities(level: Logger.Level, priority: Int) {
        #expect(JournalLogHandler.priority(level) == priority)
    }

    @Test("Field names are upper-case letters, digits and underscores, never starting with _ or a digit")
    func fieldNames() {
        #expect(JournalLogHandler.fieldName("piv.pin_retries") == "PIV_PIN_RETRIES")
        #expect(JournalLogHandler.fieldName("_secret") == "SECRET")
        #expect(JournalLogHandler.fieldName("9lives") == "X9LIVES")
        #expect(JournalLogHandler.fieldName("a-b c/ü") == "A_B_C__")
        #expect(JournalLogHandler.fieldName(String(repeating: "k", count: 100)).count == 64)
    }

    @Test("The handler merges handler, provider and call metadata and sends one entry per call")
    func handlerSends() {
        let entries = Mutex<[[String]]>([])
        var handler = JournalLogHandler(label: "test", identifier: "sigillumd", logLevel: .info) { fields in
            entries.withLock { $0.append(fields) }
        }
        handler[metadataKey: "sigillum.event"] = "handler"
        handler.metadataProvider = Logger.MetadataProvider { ["provided": "yes"] }
        let logger = Logger(label: "test") { _ in handler }
        logger.info("one", metadata: ["sigillum.event": "call"])
        logger.debug("below the level: not sent")
        let sent = entries.withLock { $0 }
        #expect(sent.count == 1)
        #expect(sent.first?.contains("SIGILLUM_EVENT=call") == true)
        #expect(sent.first?.contains("SIGILLUM_PROVIDED=yes") == true)
    }

    @Test("JOURNAL_STREAM counts only when it names this process's standard error")
    func journalStream() {
        #expect(!JournalStream.isStandardErrorConnected(environment: [:]))
        #expect(!JournalStream.isStandardErrorConnected(environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(!JournalStream.isStandardErrorConnected(environment: ["JOURNAL_STREAM": "1:1"]))
    }
}
