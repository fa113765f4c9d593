import SportelloMobile
import SwiftUI

struct ContentView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        TabView {
            NavigationStack { MunicipalitiesView() }
                .tabItem { Label("Comuni", systemImage: "building.columns") }
            NavigationStack { InboxView() }
                .tabItem { Label("Messaggi", systemImage: "tray") }
                .badge(Int(model.unread))
            NavigationStack { ProfileView() }
                .tabItem { Label("Profilo", systemImage: "person.crop.circle") }
        }
        .alert(
            "Sportello",
            isPresented: Binding(get: { model.errorMessage != nil }, set: { if !$0 { model.errorMessage = nil } }),
            actions: { Button("OK", role: .cancel) {} },
            message: { Text(model.errorMessage ?? "") }
        )
    }
}

/// The 67 municipalities, nearest first once the user shares an approximate location.
struct MunicipalitiesView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        List(model.rows) { row in
            HStack {
                VStack(alignment: .leading) {
                    Text(row.municipality.name).font(.headline)
                    Text("\(row.municipality.population) abitanti").font(.subheadline).foregroundStyle(.secondary)
                }
                Spacer()
                if let distance = row.distanceKm {
                    Text(distance, format: .number.precision(.fractionLength(1))) + Text(" km")
                }
            }
        }
        .overlay { if model.busy && model.rows.isEmpty { ProgressView() } }
        .refreshable { await model.load() }
        .navigationTitle(model.sortedByDistance ? "Più vicini" : "Comuni")
        .toolbar {
            Button {
                Task { await model.sortByDistance() }
            } label: {
                Label("Ordina per distanza", systemImage: "location")
            }
        }
    }
}

/// The inbox (as the IO app's messages): newest first, unread in bold, a page at a time.
struct InboxView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        List {
            if !model.loggedIn {
                Text("Accedi per leggere i tuoi messaggi.")
            }
            ForEach(model.inbox, id: \.id) { message in
                Button {
                    Task { await model.open(messageId: message.id) }
                } label: {
                    VStack(alignment: .leading) {
                        Text(message.subject).fontWeight(message.read ? .regular : .bold)
                        Text(message.createdAt, style: .date).font(.caption).foregroundStyle(.secondary)
                    }
                }
            }
            if model.inboxCursor != nil {
                Button("Altri messaggi") { Task { await model.loadMoreInbox() } }
            }
        }
        .task { if model.loggedIn { await model.loadInbox() } }
        .refreshable { await model.loadInbox() }
        .navigationTitle("Messaggi")
        .sheet(item: Binding(get: { model.openMessage.map(OpenedMessage.init) }, set: { if $0 == nil { model.openMessage = nil } })) { opened in
            NavigationStack {
                ScrollView {
                    // Markdown body, rendered by SwiftUI's Text.
                    Text(LocalizedStringKey(opened.message.body)).padding()
                }
                .navigationTitle(opened.message.subject)
                .toolbar {
                    Button("Elimina", role: .destructive) {
                        Task { await model.delete(messageId: opened.message.id) }
                    }
                }
            }
        }
    }
}

/// An inbox message as a sheet item.
struct OpenedMessage: Identifiable {
    let message: InboxMessage
    var id: String { message.id }
}

/// Logged out: a button per identity provider. Logged in: who the user is, and logout.
struct ProfileView: View {
    @EnvironmentObject private var model: AppModel
    @State private var fiscalCode = ""

    var body: some View {
        Form {
            if model.loggedIn, let me = model.me {
                Section {
                    let name = [me.givenName, me.familyName].compactMap { $0 }.joined(separator: " ")
                    if !name.isEmpty { Text(name).font(.title2) }
                    Text(me.fiscalCode).font(.body.monospaced())
                }
                Section("Ruoli") {
                    // Role's description is the role string, e.g. operator:010025:permits.
                    ForEach(me.roles, id: \.self) { role in Text(role.description) }
                }
                Button("Esci", role: .destructive) { Task { await model.logout() } }
            } else {
                Section {
                    ForEach(model.providers?.items ?? [], id: \.id) { provider in
                        Button("Entra con \(provider.displayName)") {
                            Task { await model.login(with: provider) }
                        }
                    }
                }
                if model.providers?.devLogin == true {
                    Section("Accesso di prova (solo server demo)") {
                        TextField("Codice fiscale", text: $fiscalCode)
                            .textInputAutocapitalization(.characters)
                            .autocorrectionDisabled()
                        // Checked on the device with core's validator before anything is sent.
                        Button("Entra") { Task { await model.devLogin(fiscalCode: fiscalCode) } }
                            .disabled(!isValidFiscalCode(text: fiscalCode))
                    }
                }
            }
        }
        .disabled(model.busy)
        .navigationTitle("Profilo")
    }
}
