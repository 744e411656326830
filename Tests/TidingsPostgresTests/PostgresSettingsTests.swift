import Testing
import TidingsTestSupport
@testable import TidingsPostgres

@Suite("PostgreSQL: the database URL")
struct PostgresSettingsTests {
    @Test func aFullURLIsRead() throws {
        let settings = try PostgresSettings(url: "postgresql://shop%40eu:s3cr%2Ft@db.internal:6432/tidings?sslmode=verify-full&max_connections=4")
        #expect(settings.host == "db.internal" && settings.port == 6432 && settings.database == "tidings")
        #expect(settings.user == "shop@eu" && settings.password == "s3cr/t")
        #expect(settings.tls == .verifyFull && settings.maximumConnections == 4)
    }

    @Test func defaultsAndAPasswordGivenApartWin() throws {
        let settings = try PostgresSettings(url: "postgres://tidings:fromurl@localhost/tidings", password: "fromfile")
        #expect(settings.port == 5432 && settings.tls == .prefer && settings.password == "fromfile")
    }

    @Test func thePasswordNeverShows() throws {
        let settings = try PostgresSettings(url: "postgres://tidings:hunter2@localhost/tidings")
        #expect(!settings.description.contains("hunter2"))
        #expect(settings.description == "postgres://tidings@localhost:5432/tidings?sslmode=prefer")
    }

    @Test(arguments: [
        ("sqlite:var/tidings.sqlite", "not a PostgreSQL URL"),
        ("postgres:///tidings", "no host"),
        ("postgres://localhost/tidings", "no user"),
        ("postgres://tidings@localhost", "no database"),
        ("postgres://tidings@localhost/tidings?sslmode=maybe", "sslmode must be one of"),
        ("postgres://tidings@localhost/tidings?max_connections=0", "max_connections"),
        ("postgres://tidings@localhost/tidings?timeout=3", "unknown parameter timeout"),
    ])
    func aWrongURLSaysWhatIsWrong(url: String, says: String) {
        #expect {
            try PostgresSettings(url: url)
        } throws: { error in
            (error as? PostgresBackendError)?.code == .invalidURL && "\(error)".contains(says) && !"\(error)".contains("hunter")
        }
    }
}
