import Logging
import ServiceLifecycle
import Synchronization
import Testing
@testable import TidingsApp

/// The daemon's loops and its HTTP server are told to stop at the same moment: one that waits
/// for another's stop (the dispatcher for a pipeline batch's room) must not wait for a stop that
/// a group would only begin after its own.
@Suite("Services stopping together")
struct StoppingTogetherTests {
    struct Stuck: Error, CustomStringConvertible {
        var description: String { "the partner was never told to stop" }
    }

    /// Stops only once the partner has been told to stop.
    struct Waiter: Service {
        let told: Flag
        let patience: Duration

        func run() async throws {
            try await gracefulShutdown()
            let deadline = ContinuousClock.now + patience
            while !told.value.load(ordering: .relaxed) {
                guard ContinuousClock.now < deadline else { throw Stuck() }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    struct Partner: Service {
        let told: Flag

        func run() async throws {
            try await gracefulShutdown()
            told.value.store(true, ordering: .relaxed)
        }
    }

    /// Returns at once, as a loop that quietly gave up would.
    struct Quitter: Service {
        func run() async throws {}
    }

    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    @Test func aServiceWaitingForAnothersStopStops() async throws {
        let flag = Flag()
        let logger = Logger(label: "test")
        // The premise: a group stops the waiter first, and the waiter gives up.
        let oneByOne = ServiceGroup(configuration: .init(services: [
            Partner(told: flag), Waiter(told: flag, patience: .milliseconds(300)),
        ], logger: logger))
        await #expect(throws: Stuck.self) {
            try await withThrowingDiscardingTaskGroup { tasks in
                tasks.addTask { try await oneByOne.run() }
                await oneByOne.triggerGracefulShutdown()
            }
        }

        let together = Flag()
        let group = ServiceGroup(configuration: .init(services: [
            StoppingTogether([Partner(told: together), Waiter(told: together, patience: .seconds(60))]),
        ], logger: logger))
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
        }
        let told = together.value.load(ordering: .relaxed)
        #expect(told)
    }

    @Test func aServiceThatEndsUnaskedStopsTheDaemon() async throws {
        let flag = Flag()
        let group = ServiceGroup(configuration: .init(services: [
            StoppingTogether([Partner(told: flag), Quitter()]),
        ], logger: Logger(label: "test")))
        let error = await #expect(throws: DaemonError.self) { try await group.run() }
        #expect(error?.code == .serviceFailed)
        #expect(error?.message.contains("Quitter") == true)
    }
}
