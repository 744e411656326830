import Foundation

/// CPU seconds: the daemons' own (user and system, from /proc/PID/stat), and the whole
/// machine's busy time (from /proc/stat) over the same span.
struct CPUUse {
    var daemons: Double
    var machine: Double

    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func machineBusySeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 5 else { return 0 }
        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        return (fields.reduce(0, +) - fields[3] - fields[4]) / ticks
    }

    /// Microseconds of CPU per item: the daemon's, and the rest of the machine's (servers, the
    /// load generator, the kernel's work for them). Steadier than the wall clock on a shared
    /// machine, for comparing two builds.
    func perItem(_ count: Int) -> [String: Double] {
        guard count > 0 else { return [:] }
        return ["daemon_cpu_us_each": (daemons / Double(count) * 1e7).rounded() / 10,
                "rest_cpu_us_each": (max(0, machine - daemons) / Double(count) * 1e7).rounded() / 10]
    }
}

extension Child {
    /// User and system CPU seconds so far, while it runs.
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / CPUUse.ticks
    }
}
