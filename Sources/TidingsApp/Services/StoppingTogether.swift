import ServiceLifecycle

/// Services that may stop in any order, told to stop at the same moment. A `ServiceGroup` stops
/// its services one after another, each waiting for the last: a dispatcher waiting for the room
/// a pipeline batch holds, or a clock waiting for the writer that batch holds, would wait for a
/// pipeline told to stop only after them. Each runs in a child task, which inherits this
/// service's graceful shutdown, so every handler fires at once.
struct StoppingTogether: Service, CustomStringConvertible {
    let services: [any Service]

    init(_ services: [any Service]) {
        self.services = services
    }

    var description: String { "StoppingTogether(\(services.map { "\(type(of: $0))" }.joined(separator: ", ")))" }

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for service in services {
                group.addTask {
                    try await service.run()
                    // As in the group: a service that ends before it is told to is a failure,
                    // not a loop that quietly stopped while the others go on.
                    if !Task.isShuttingDownGracefully && !Task.isCancelled {
                        throw DaemonError(.serviceFailed, "\(type(of: service)) stopped before the daemon was told to stop")
                    }
                }
            }
        }
    }
}
