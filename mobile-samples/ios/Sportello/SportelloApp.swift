import SwiftUI

@main
struct SportelloApp: App {
    @StateObject private var model = AppModel()

    var body: some Scene {
        WindowGroup {
            ContentView()
                .environmentObject(model)
                .task { await model.load() }
                // it.genova.sportello://inbox/{id}, the deep link of every push.
                .onOpenURL { url in Task { await model.handle(url: url) } }
        }
    }
}
