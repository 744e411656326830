import CCurl
import Foundation
import TidingsCore

/// One easy handle and everything libcurl reads from or writes to during the transfer: the
/// header and recipient lists, the request body, the error buffer and the response. libcurl
/// keeps raw pointers to all of these, so they live until `reset()` or the object's end; the
/// worker reuses the object for its next transfer.
final class CurlTransfer {
    let handle: UnsafeMutableRawPointer
    private var lists: [UnsafeMutablePointer<curl_slist>] = []
    private var upload: [UInt8] = []
    private var uploadOffset = 0
    private var postBody: UnsafeMutableRawBufferPointer?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private(set) var responseBody: [UInt8] = []
    private(set) var responseHeaders: [String] = []
    /// The response is an HTTP success: its header lines are not kept (`receiveHeader`).
    private var skippingHeaders = false
    private(set) var setupError: String?

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        for list in lists { curl_slist_free_all(list) }
        postBody?.deallocate()
        errorBuffer.deallocate()
    }

    /// Makes the handle ready for another request: libcurl forgets the options, the lists and
    /// buffers are freed or emptied (keeping their capacity). The connection stays in the multi
    /// handle's cache either way.
    func reset() {
        curl_easy_reset(handle)
        for list in lists { curl_slist_free_all(list) }
        lists.removeAll(keepingCapacity: true)
        upload.removeAll(keepingCapacity: true)
        uploadOffset = 0
        postBody?.deallocate()
        postBody = nil
        errorBuffer[0] = 0
        responseBody.removeAll(keepingCapacity: true)
        responseHeaders.removeAll(keepingCapacity: true)
        skippingHeaders = false
        setupError = nil
    }

    /// Sets every option for the request. Returns false (with `setupError`) if libcurl refuses one.
    func configure(_ request: CurlRequest) -> Bool {
        let me = Unmanaged.passUnretained(self).toOpaque()
        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        set(CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds)
        check(tidings_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        check(tidings_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, me), "WRITEDATA")
        check(tidings_easy_setopt_write_function(handle, curlWriteCallback), "WRITEFUNCTION")
        check(tidings_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, me), "HEADERDATA")
        check(tidings_easy_setopt_header_function(handle, curlHeaderCallback), "HEADERFUNCTION")
        if let username = request.username, !username.isEmpty { set(CURLOPT_USERNAME, username) }
        if let password = request.password, !password.isEmpty { set(CURLOPT_PASSWORD, password) }
        switch request.payload {
        case .http(let method, let headers, let body):
            set(CURLOPT_PROTOCOLS_STR, "http,https")
            set(CURLOPT_FOLLOWLOCATION, 0)
            set(CURLOPT_CUSTOMREQUEST, method)
            // An empty Expect header stops libcurl waiting for "100 Continue" on larger bodies.
            setList(CURLOPT_HTTPHEADER, headers + ["Expect:"])
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, body.count), alignment: 1)
            buffer.copyBytes(from: body)
            postBody = buffer
            set(CURLOPT_POST, 1)
            check(tidings_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "POSTFIELDSIZE")
            check(tidings_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, buffer.baseAddress), "POSTFIELDS")
        case .smtp(let from, let recipients, let message, let tls):
            set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
            set(CURLOPT_MAIL_FROM, "<\(from)>")
            setList(CURLOPT_MAIL_RCPT, recipients.map { "<\($0)>" })
            upload = message
            set(CURLOPT_UPLOAD, 1)
            check(tidings_easy_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count)), "INFILESIZE")
            check(tidings_easy_setopt_pointer(handle, CURLOPT_READDATA, me), "READDATA")
            check(tidings_easy_setopt_read_function(handle, curlReadCallback), "READFUNCTION")
            set(CURLOPT_USE_SSL, Self.sslLevel(tls))
        case .smtpProbe(let tls):
            set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
            set(CURLOPT_CUSTOMREQUEST, "NOOP")
            // A connection of its own, so the server's EHLO reply is among the response lines.
            set(CURLOPT_FRESH_CONNECT, 1)
            set(CURLOPT_FORBID_REUSE, 1)
            set(CURLOPT_USE_SSL, Self.sslLevel(tls))
        }
        return setupError == nil
    }

    static func sslLevel(_ tls: CurlRequest.SMTPTLS) -> Int {
        let level: curl_usessl
        switch tls {
        case .required: level = CURLUSESSL_ALL
        case .opportunistic: level = CURLUSESSL_TRY
        case .off: level = CURLUSESSL_NONE
        }
        return Int(level.rawValue)
    }

    func response(code: CURLcode) -> CurlResponse {
        var status = 0
        var value: CLong = 0
        if tidings_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &value) == CURLE_OK { status = Int(value) }
        var message = String(cString: errorBuffer)
        if message.isEmpty, code != CURLE_OK { message = String(cString: curl_easy_strerror(code)) }
        return CurlResponse(curlCode: Int(code.rawValue), errorMessage: message, responseCode: status, headers: responseHeaders,
                            body: responseBody)
    }

    // MARK: callbacks' side

    func receive(_ pointer: UnsafeRawBufferPointer) { responseBody.append(contentsOf: pointer) }

    /// Keeps a header line. An HTTP success's lines are not kept: nothing reads them (only a
    /// refusal's `Retry-After` is), and making a string of each was a percent of a webhook's
    /// CPU. SMTP's reply lines are always kept (a probe reads the server's extensions).
    func receiveHeader(_ pointer: UnsafeRawBufferPointer) {
        if pointer.starts(with: "HTTP/".utf8) {
            // A new status line starts a new header block (after a 100 Continue, say).
            responseHeaders.removeAll()
            skippingHeaders = Self.isSuccess(statusLine: pointer)
        }
        guard !skippingHeaders else { return }
        // Trimmed as bytes (HTTP's whitespace is ASCII): looking up each scalar's Unicode
        // properties was a tenth of a webhook's time in libcurl's callbacks.
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = pointer.startIndex
        var end = pointer.endIndex
        while start < end, isSpace(pointer[start]) { start += 1 }
        while end > start, isSpace(pointer[end - 1]) { end -= 1 }
        responseHeaders.append(String(decoding: UnsafeRawBufferPointer(rebasing: pointer[start..<end]), as: UTF8.self))
    }

    /// `HTTP/1.1 204 No Content`: a status code of 2xx after the version.
    static func isSuccess(statusLine line: UnsafeRawBufferPointer) -> Bool {
        guard let space = line.firstIndex(of: UInt8(ascii: " ")), space + 3 < line.endIndex else { return false }
        let digits = line[(space + 1)...(space + 3)]
        return digits.first == UInt8(ascii: "2") && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    func send(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, upload.count - uploadOffset)
        guard count > 0 else { return 0 }
        upload.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[uploadOffset..<(uploadOffset + count)]))
        }
        uploadOffset += count
        return count
    }

    // MARK: option helpers

    private func set(_ option: CURLoption, _ value: Int) {
        check(tidings_easy_setopt_long(handle, option, value), option)
    }

    private func set(_ option: CURLoption, _ value: String) {
        // libcurl copies string options (since 7.17), so a temporary C string is fine.
        check(tidings_easy_setopt_string(handle, option, value), option)
    }

    private func setList(_ option: CURLoption, _ items: [String]) {
        var list: UnsafeMutablePointer<curl_slist>?
        for item in items {
            guard let next = curl_slist_append(list, item) else {
                setupError = "out of memory building a libcurl list"
                return
            }
            list = next
        }
        guard let list else { return }
        lists.append(list)
        check(tidings_easy_setopt_slist(handle, option, list), option)
    }

    /// The option is named only on failure: interpolating a C enum goes through reflection,
    /// and was 3.5% of a send's time when done for every option.
    private func check(_ code: CURLcode, _ option: CURLoption) {
        check(code, "option \(option.rawValue)")
    }

    private func check(_ code: CURLcode, _ what: @autoclosure () -> String) {
        if code != CURLE_OK, setupError == nil {
            setupError = "libcurl refused \(what()): \(String(cString: curl_easy_strerror(code)))"
        }
    }
}

private func transfer(_ userdata: UnsafeMutableRawPointer?) -> CurlTransfer? {
    userdata.map { Unmanaged<CurlTransfer>.fromOpaque($0).takeUnretainedValue() }
}

private let curlWriteCallback: tidings_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let buffer, let owner = transfer(userdata) else { return length }
    owner.receive(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

private let curlHeaderCallback: tidings_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let buffer, let owner = transfer(userdata) else { return length }
    owner.receiveHeader(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

private let curlReadCallback: tidings_data_callback = { buffer, size, count, userdata in
    guard let buffer, let owner = transfer(userdata) else { return 0 }
    return owner.send(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
}
