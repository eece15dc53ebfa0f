import ArgumentParser
import Logging
import StableGateApp

/// The `stablegate` executable: serve the gateway and administer it.
@main
struct StableGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stablegate",
        abstract: "A self-hostable stablecoin checkout gateway, wire-compatible with the AllScale Open API.",
        version: BuildInfo.description,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, BackupCommand.self, RestoreCommand.self, MerchantsCommand.self, KeysCommand.self,
            UsersCommand.self, WebhooksCommand.self,
            ReportsCommand.self, StoresCommand.self, IntentsCommand.self,
            TransfersCommand.self, AccountsCommand.self, SandboxCommand.self, ClientCommand.self, BenchWatcherCommand.self,
            BenchSeedOrdersCommand.self, DoctorCommand.self,
        ]
    )
}
