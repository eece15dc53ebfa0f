import ArgumentParser
import Logging
import StableGateApp
import StableGateDomain

/// `stablegate doctor`: checks the installation `serve` would run with this configuration and
/// says what to do about each problem; exit 1 when any check fails. The checks themselves live
/// in `Sources/StableGateApp/Operations/Doctor`.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check configuration, database, master key, chains, hot wallet, SMTP, FX and webhooks; exit 1 on any failure.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("public-url"), help: "Public base URL, as given to serve (env STABLEGATE_PUBLIC_URL).")
    var publicURL: String?

    @Option(help: "Seconds each check may take before it counts as failed (default 10).")
    var timeout: Int = 10

    @Flag(help: "Print the report as one JSON document.")
    var json = false

    func validate() throws {
        guard (1...300).contains(timeout) else { throw ValidationError("--timeout must be 1–300 seconds") }
    }

    func run() async throws {
        // Components' own complaints (a failed FX refresh, a pool's reconnects) would repeat the
        // report's findings on stderr; --log-level brings them back.
        let doctor = Doctor(timeout: .seconds(timeout), logger: global.logger(fallback: .critical))
        let report = await doctor.run { try await global.load(extra: ["public.url": publicURL]) }
        print(json ? report.json.serialized : report.text)
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
