// Fetches catalogue documents over HTTP (AsyncHTTPClient), conditionally: a source that answers
// 304 Not Modified to If-None-Match / If-Modified-Since costs nothing.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

public struct FetchedDocument: Sendable {
    public var url: String
    public var provider: String?
    /// Nil when the server said 304 Not Modified.
    public var body: Data?
    public var etag: String?
    public var lastModified: String?
}

public struct PriceFetcher: Sendable {
    let client: HTTPClient
    let timeout: Duration
    /// Catalogues are a few MB; anything far larger is not one.
    let maximumBytes = 64 * 1024 * 1024

    public init(client: HTTPClient = .shared, timeout: Duration = .seconds(30)) {
        self.client = client
        self.timeout = timeout
    }

    /// The same fetcher with another per-document timeout.
    public func with(timeout: Duration) -> PriceFetcher {
        PriceFetcher(client: client, timeout: timeout)
    }

    public func fetch(_ url: String, provider: String? = nil, etag: String? = nil, lastModified: String? = nil) async throws -> FetchedDocument {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Budget price sync")
        if let etag { request.headers.add(name: "If-None-Match", value: etag) }
        if let lastModified { request.headers.add(name: "If-Modified-Since", value: lastModified) }
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: deadline)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw PriceSyncError.timeout(url: url)
        }
        let newEtag = response.headers.first(name: "ETag")
        let newLastModified = response.headers.first(name: "Last-Modified")
        if response.status == .notModified {
            return FetchedDocument(url: url, provider: provider, body: nil, etag: etag, lastModified: lastModified)
        }
        guard response.status == .ok else { throw PriceSyncError.http(status: Int(response.status.code), url: url) }
        var body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maximumBytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw PriceSyncError.timeout(url: url)
        }
        return FetchedDocument(url: url, provider: provider, body: Data(body.readableBytesView), etag: newEtag, lastModified: newLastModified)
    }
}
