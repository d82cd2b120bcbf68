import Foundation
import Testing
@testable import VAEScript

@Suite("Completion")
struct CompletionTests {
    let session: Session = {
        let session = Session(options: SessionOptions(), output: CapturingOutput(), commands: tableWithFakes, interrupt: InterruptFlag())
        session.setVariable("kl", 1)
        session.setVariable("elbo", -1)
        return session
    }()

    func complete(_ line: String) -> [String] {
        session.completions(line: line, cursor: line.utf8.count)
    }

    @Test func commandNames() {
        #expect(complete("ec") == ["echo"])
        #expect(complete("s") == ["set", "show", "source"])
        #expect(complete("echo a; qu") == ["quit"])
        #expect(complete("").contains("load"))
        #expect(complete("").contains("exit"))
    }

    @Test func secondWordOfAFamily() {
        #expect(complete("show ") == ["settings"])
        #expect(complete("load m") == ["mnist"])
    }

    @Test func optionNamesOfTheCommandBeingTyped() {
        #expect(complete("train ep") == ["epochs="])
        #expect(complete("train epochs=3 ") == ["batch=", "lr=", "optimizer="])
        #expect(complete("set l") == ["lr="])
        #expect(complete("load idx ") == ["images=", "labels="])
    }

    @Test func valuesAfterKeyEquals() {
        #expect(complete("load mnist split=") == ["split=test", "split=train"])
        #expect(complete("load mnist split=tr") == ["split=train"])
        #expect(complete("train optimizer=a") == ["optimizer=adam"])
        #expect(complete("set json=") == ["json=false", "json=true"])
        #expect(complete("train epochs=") == [])
    }

    @Test("layer names and their keywords inside model encoder=\"…\" and decoder=\"…\"")
    func layersInsideAQuotedStack() {
        let real = Session(options: SessionOptions(), output: CapturingOutput())
        func complete(_ line: String) -> [String] { real.completions(line: line, cursor: line.utf8.count) }
        #expect(complete("model encoder=\"Conv2d(1,32,3) Re") == ["encoder=\"Conv2d(1,32,3) ReLU"])
        #expect(complete("model encoder=\"Con") == ["encoder=\"Conv2d", "encoder=\"ConvTranspose2d"])
        #expect(complete("model latent=2 decoder=\"Linear(2,64) ReLU ConvTranspose2d(1,1,3,str") == ["decoder=\"Linear(2,64) ReLU ConvTranspose2d(1,1,3,stride="])
        #expect(complete("model encoder=\"Conv2d(1,32,3,out") == ["encoder=\"Conv2d(1,32,3,out_channels="])
        #expect(complete("model encoder='Flatten Lin") == ["encoder='Flatten Linear"])
        // Not a layers argument: no completion inside its quotes.
        #expect(complete("echo \"Re") == [])
        // After the value, options again.
        #expect(complete("model encoder=\"Flatten\" he").contains("head="))
    }

    @Test func commandNamesForHelp() {
        #expect(complete("help tr") == ["train"])
        #expect(complete("help show s") == ["settings"])
    }

    @Test func variablesAndFunctionsInExpressions() {
        #expect(complete("assert k") == ["kl"])
        #expect(complete("assert kl>=-el") == ["kl>=-elbo"])
        #expect(complete("let x = ex") == ["exp("])
        #expect(complete("assert 1 < 2") == [])
    }

    @Test func filesForPathArguments() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vaesh-complete-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("scripts"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in ["tour.vae", "train.idx", ".hidden"] {
            try Data().write(to: directory.appendingPathComponent(file))
        }
        let base = directory.path + "/"
        #expect(complete("source \(base)t") == [base + "tour.vae", base + "train.idx"])
        #expect(complete("source \(base)s") == [base + "scripts/"])
        #expect(complete("source \(base)") == [base + "scripts/", base + "tour.vae", base + "train.idx"])
        #expect(complete("source \(base).h") == [base + ".hidden"])
        #expect(complete("load idx images=\(base)tr") == ["images=\(base)train.idx"])
        #expect(complete("source \(base)nothing/") == [])
    }

    @Test func theWordUnderTheCursorStartsAfterTheLastBlankOrSemicolon() {
        #expect(session.completionWordStart(line: "train epochs=3 lr", cursor: 17) == 15)
        #expect(session.completionWordStart(line: "train ", cursor: 6) == 6)
        #expect(session.completionWordStart(line: "echo a;ec", cursor: 9) == 7)
        // Offsets are UTF-8 bytes: "‖" takes three.
        #expect(session.completionWordStart(line: "echo ‖ ec", cursor: 11) == 9)
        #expect(session.completions(line: "echo ‖; ec", cursor: 12) == ["echo"])
    }

    @Test func theCursorNeedNotBeAtTheEnd() {
        #expect(session.completions(line: "ec epochs=3", cursor: 2) == ["echo"])
        #expect(session.completions(line: "train", cursor: 99) == ["train"])
        #expect(session.completions(line: "train", cursor: -3).contains("train"))
    }

    @Test func helpForTheCommandUnderTheCursor() {
        let table = session.commands
        func help(_ line: String, _ cursor: Int) -> String? { session.helpText(line: line, cursor: cursor) }
        #expect(help("train epochs=3", 2) == table.command(named: "train").map { table.help(for: $0) })
        #expect(help("train epochs=3", 12) == table.command(named: "train").map { table.help(for: $0) })
        #expect(help("show settings", 1) == table.command(named: "show settings").map { table.help(for: $0) })
        #expect(help("echo a; help quit", 9) == table.command(named: "quit").map { table.help(for: $0) })
        #expect(help("? set", 0) == table.command(named: "set").map { table.help(for: $0) })
        #expect(help("echo a; nothing", 10) == nil)
        #expect(help("", 0) == nil)
    }
}
