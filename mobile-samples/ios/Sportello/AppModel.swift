import AuthenticationServices
import Foundation
import SportelloMobile

/// A row of the municipalities list; the distance is known once the user shared a location.
struct MunicipalityRow: Identifiable {
    let municipality: Municipality
    let distanceKm: Double?
    var id: String { municipality.istatCode }
}

/// The app's state and the calls behind the screens, on the main actor.
@MainActor
final class AppModel: ObservableObject {
    @Published private(set) var rows: [MunicipalityRow] = []
    @Published private(set) var sortedByDistance = false
    @Published private(set) var providers: AuthProviderList?
    @Published private(set) var loggedIn = false
    @Published private(set) var me: Me?
    @Published private(set) var busy = false
    /// The inbox as loaded so far (newest first), its next page and the unread count.
    @Published private(set) var inbox: [InboxMessage] = []
    @Published private(set) var inboxCursor: String?
    @Published private(set) var unread: UInt64 = 0
    /// The message opened from the list or from a notification's deep link.
    @Published var openMessage: InboxMessage?
    @Published var errorMessage: String?

    static let redirectScheme = "it.genova.sportello"
    static let redirectUri = "\(redirectScheme)://auth"
    static let genovaIstat = "010025"

    private let client: SportelloClient
    private let store = SessionStore()
    private let location = LocationProvider()
    private let authenticator = WebAuthenticator()
    /// As the server sent them (alphabetical): ranking happens on the device.
    private var municipalities: [Municipality] = []

    init() {
        let baseUrl = Bundle.main.object(forInfoDictionaryKey: "SportelloBaseURL") as? String ?? ""
        let language = Locale.current.language.languageCode?.identifier == "en" ? "en" : "it"
        do {
            client = try SportelloClient(baseUrl: baseUrl, language: language)
        } catch {
            fatalError("SportelloBaseURL in Info.plist is not a valid server URL: \(error)")
        }
        // The refresh token rotates at every renewal: the Keychain always holds the newest one.
        client.setSessionListener(listener: KeychainSessionListener(store: store))
        if let token = store.load() {
            do {
                try client.restoreSession(refreshToken: token)
            } catch {
                store.clear()
            }
        }
        loggedIn = client.isLoggedIn()
    }

    func load() async {
        await perform {
            self.municipalities = try await self.client.municipalities()
            self.rows = self.municipalities.map { MunicipalityRow(municipality: $0, distanceKm: nil) }
            self.sortedByDistance = false
            self.providers = try await self.client.providers()
            if self.client.isLoggedIn() {
                self.me = try await self.client.me()
            }
        }
    }

    /// Nearest first, computed here with core's haversine: the location is never sent.
    func sortByDistance() async {
        guard let here = await location.currentLocation() else { return }
        await perform {
            let origin = Coordinates(lat: here.coordinate.latitude, lon: here.coordinate.longitude)
            let ranked = try rankMunicipalitiesByDistance(municipalities: self.municipalities, origin: origin)
            self.rows = ranked.map { MunicipalityRow(municipality: $0.municipality, distanceKm: $0.distanceKm) }
            self.sortedByDistance = true
        }
    }

    /// SPID/CIE in ASWebAuthenticationSession; the library keeps the PKCE verifier and state.
    func login(with provider: AuthProvider) async {
        await perform {
            let request = try self.client.beginLogin(provider: provider.id, redirectUri: Self.redirectUri)
            guard let url = URL(string: request.url) else { return }
            let callback: URL
            do {
                callback = try await self.authenticator.authenticate(url: url, callbackScheme: Self.redirectScheme)
            } catch ASWebAuthenticationSessionError.canceledLogin {
                self.client.cancelLogin()
                return
            }
            _ = try await self.client.completeLogin(redirectUrl: callback.absoluteString)
            self.me = try await self.client.me()
        }
    }

    /// Demo servers only (`sportello serve --dev-auth`).
    func devLogin(fiscalCode: String) async {
        await perform {
            _ = try await self.client.devLogin(fiscalCode: try parseFiscalCode(text: fiscalCode), roles: [])
            self.me = try await self.client.me()
        }
    }

    func logout() async {
        await perform {
            defer { self.me = nil }
            // The device is logged out even if the server cannot be told.
            try await self.client.logout()
        }
    }

    /// Registers this device for pushes, with Genova for area alerts: call it from
    /// `application(_:didRegisterForRemoteNotificationsWithDeviceToken:)` once logged in.
    /// Placeholder: the server stores APNs tokens but delivers through FCM only, so an app that
    /// wants pushes today registers its Firebase token with `registerFcmToken` instead.
    func registerPushToken(apnsToken: Data) async {
        guard client.isLoggedIn() else { return }
        let hex = apnsToken.map { String(format: "%02x", $0) }.joined()
        await perform {
            _ = try await self.client.registerApnsToken(token: hex, municipalities: [Self.genovaIstat])
        }
    }

    /// The first page of the inbox.
    func loadInbox() async {
        await perform {
            let page = try await self.client.inbox(cursor: nil, limit: 20)
            self.inbox = page.items
            self.inboxCursor = page.nextCursor
            self.unread = page.unread
        }
    }

    /// The next page, appended.
    func loadMoreInbox() async {
        guard let cursor = inboxCursor else { return }
        await perform {
            let page = try await self.client.inbox(cursor: cursor, limit: 20)
            self.inbox += page.items
            self.inboxCursor = page.nextCursor
            self.unread = page.unread
        }
    }

    /// Opens a message (from the list, or `it.genova.sportello://inbox/{id}`) and marks it read.
    func open(messageId: String) async {
        await perform {
            var message = try await self.client.inboxMessage(id: messageId)
            if !message.read {
                try await self.client.markRead(id: messageId)
                message.read = true
                self.unread = self.unread > 0 ? self.unread - 1 : 0
            }
            self.inbox = self.inbox.map { $0.id == messageId ? message : $0 }
            self.openMessage = message
        }
    }

    /// A notification was tapped, or a link opened: the inbox deep link opens the message.
    func handle(url: URL) async {
        guard url.scheme == Self.redirectScheme, url.host == "inbox" else { return }
        await open(messageId: url.lastPathComponent)
    }

    func delete(messageId: String) async {
        await perform {
            try await self.client.deleteMessage(id: messageId)
            self.inbox.removeAll { $0.id == messageId }
            self.openMessage = nil
        }
    }

    /// Runs a call with the busy flag set, turning its error into a message.
    private func perform(_ work: @MainActor () async throws -> Void) async {
        busy = true
        defer {
            busy = false
            loggedIn = client.isLoggedIn()
        }
        do {
            try await work()
        } catch let error as SportelloError {
            errorMessage = error.userMessage
        } catch {
            errorMessage = error.localizedDescription
        }
    }
}

/// Keeps the Keychain in step with the session.
final class KeychainSessionListener: SessionListener {
    private let store: SessionStore

    init(store: SessionStore) {
        self.store = store
    }

    func onSessionChanged(snapshot: SessionSnapshot?) {
        if let snapshot {
            store.save(snapshot.refreshToken)
        } else {
            store.clear()
        }
    }
}
