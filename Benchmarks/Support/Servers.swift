import Foundation

/// nginx on loopback answering every request with 204: the webhook receiver for Tidings and for
/// the curl reference alike. One worker, so it takes the same share of the two cores from both.
struct Nginx {
    let port: Int
    let child: Child

    static func start(work: URL) async throws -> Nginx {
        let port = try freePort()
        let root = work.appendingPathComponent("nginx")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let conf = """
            daemon off;
            master_process on;
            worker_processes 1;
            user root;
            pid \(root.path)/nginx.pid;
            error_log \(root.path)/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(root.path)/body;
                proxy_temp_path \(root.path)/proxy;
                fastcgi_temp_path \(root.path)/fastcgi;
                uwsgi_temp_path \(root.path)/uwsgi;
                scgi_temp_path \(root.path)/scgi;
                keepalive_requests 1000000;
                keepalive_timeout 120s;
                client_body_buffer_size 64k;
                server {
                    listen 127.0.0.1:\(port) reuseport;
                    location / { return 204; }
                }
            }
            """
        let path = root.appendingPathComponent("nginx.conf")
        try conf.write(to: path, atomically: true, encoding: .utf8)
        let child = try Child("nginx", try which("nginx"), ["-c", path.path, "-p", root.path], logs: work)
        try child.start()
        try await waitForPort(port, what: "nginx")
        return Nginx(port: port, child: child)
    }
}

/// Postfix's smtp-sink: accepts every message and throws it away, as fast as SMTP goes.
struct SMTPSink {
    let port: Int
    let child: Child

    static func start(work: URL) async throws -> SMTPSink {
        let port = try freePort()
        var arguments = ["127.0.0.1:\(port)", "1024"]
        // It refuses to run as root without a user to switch to.
        if getuid() == 0 { arguments = ["-u", "nobody"] + arguments }
        let child = try Child("smtp-sink", try which("smtp-sink"), arguments, logs: work)
        try child.start()
        try await waitForPort(port, what: "smtp-sink")
        return SMTPSink(port: port, child: child)
    }
}
