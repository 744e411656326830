import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The daemon fails loudly, never silently: a taken port stops it at once with the cause, a
/// second daemon cannot reach the same database by another path, and clients that open
/// connections and send nothing cannot hold the server.
@Suite("The daemon fails loudly", .serialized)
struct FailsLoudlyTests {
    /// A loopback TCP socket: listening (to take a port) or connected (a client).
    // @unchecked: one descriptor, used by one test at a time.
    final class Socket: @unchecked Sendable {
        let fd: Int32

        init(listeningOn port: UInt16 = 0) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port)
            guard withUnsafePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }) == 0, listen(fd, 16) == 0
            else { throw TestFailure("cannot listen: \(errno)") }
        }

        init(connectingTo port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port)
            guard withUnsafePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }) == 0
            else { throw TestFailure("cannot connect: \(errno)") }
        }

        deinit { close(fd) }

        var port: UInt16 {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            return UInt16(bigEndian: address.sin_port)
        }

        func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }

        /// Whether the server has closed the connection (a read returns end of file), without waiting.
        var closedByPeer: Bool {
            var byte: UInt8 = 0
            let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        }

        static func loopback(_ port: UInt16) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return address
        }
    }

    @Test func aTakenPortStopsTheDaemonAtOnceWithTheCause() async throws {
        let directory = try Paths.temporaryDirectory("port")
        let taken = try Socket()
        let notify = try NotifySocket(directory: directory)
        let env = Paths.environment(in: directory).merging(["HTTP_LISTEN": "127.0.0.1:\(taken.port)", "NOTIFY_SOCKET": notify.path]) { $1 }
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve")
        let status = try await daemon.wait(timeout: 20)
        #expect(status != 0)
        #expect(daemon.stderr.contains("cannot listen on 127.0.0.1:\(taken.port)"), "\(daemon.stderr)")
        #expect(daemon.stderr.contains("critical"))
        // systemd never heard "ready" from it.
        await #expect(throws: TestFailure.self) { _ = try await notify.waitFor("READY=1", timeout: 0.5) }
    }

    @Test func aSymlinkToTheDatabaseCannotStartASecondDaemon() async throws {
        let directory = try Paths.temporaryDirectory("symlink")
        let env = Paths.environment(in: directory).merging(["HTTP_LISTEN": "127.0.0.1:0"]) { $1 }
        let first = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve")
        let deadline = Date().addingTimeInterval(30)
        while !first.stderr.contains("http listening") && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let link = directory.appendingPathComponent("link.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: env["DATABASE_PATH"]!)
        let second = try await ChildProcess.tidings(["serve"], environment: env.merging(["DATABASE_PATH": link]) { $1 }, logs: directory)
        #expect(second.status != 0)
        #expect(second.stderr.contains("another `tidings serve`"), "\(second.stderr)")
        first.signal(SIGTERM)
        #expect(try await first.wait(timeout: 30) == 0)
    }

    /// A thousand clients open a request and never finish its headers: the server closes each
    /// after `http.idle_timeout`, and a real request is answered although the cap on
    /// connections was reached meanwhile.
    @Test func halfOpenRequestsAreClosedAndTheConnectionCapHolds() async throws {
        let directory = try Paths.temporaryDirectory("halfopen")
        let env = Paths.environment(in: directory).merging([
            "HTTP_LISTEN": "127.0.0.1:0", "HTTP_IDLE_TIMEOUT": "1s", "HTTP_MAX_CONNECTIONS": "200",
        ]) { $1 }
        let daemon = try ChildProcess(Paths.tidings, ["serve"], environment: env, logs: directory, name: "serve")
        let deadline = Date().addingTimeInterval(30)
        var port: UInt16?
        while port == nil && Date() < deadline {
            port = daemon.stderr.split(separator: "\n").first { $0.contains("http listening") }
                .flatMap { $0.split(separator: ":").last }.flatMap { UInt16($0.filter(\.isNumber)) }
            try await Task.sleep(for: .milliseconds(20))
        }
        let open = try #require(port)
        // Connecting blocks once the cap and the backlog are full, until idle ones are dropped.
        let clients = try await offPool {
            try (0..<1_000).map { _ in
                let client = try Socket(connectingTo: open)
                client.send("POST /v1/events HTTP/1.1\r\nHost: tidings\r\nContent-Type: application/x-ndjs")
                return client
            }
        }
        // Everyone who got a connection is dropped after the idle timeout; the rest waited in
        // the backlog and are dropped in their turn.
        let closing = Date().addingTimeInterval(60)
        var held = clients
        while !held.isEmpty && Date() < closing {
            held = held.filter { !$0.closedByPeer }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(held.isEmpty, "\(held.count) of 1000 half-open connections are still held")
        let (_, response) = try await URLSession.shared.data(from: try #require(URL(string: "http://127.0.0.1:\(open)/healthz")))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)
    }
}
