/// `echo`, `let`, `assert`, `vars`: text, variables and checks.
extension CommandTable {
    static let variableCommands: [CommandSpec] = [
        CommandSpec(
            "echo", topic: .variables,
            arguments: [.rest("text", .template, abstract: "words and quoted strings; each {expr} is replaced by its value")],
            abstract: "print text, with each {expr} replaced by its value",
            discussion: """
            Prints its words joined by single blanks, wrapped to the line as a paragraph (continued \
            lines not indented, unlike a report's). Inside the text, {expr} is replaced by the \
            value of the expression, with six significant digits; write \\{ for a literal brace. \
            Under --json it prints {"command":"echo","text":…}.
            """,
            examples: [#"echo "gap = {logpx - elbo} nats/example""#, #"echo "KL per latent dimension: {kl / 20}""#],
            printsResults: false,
            handler: echoText
        ),

        CommandSpec(
            "let", topic: .variables,
            arguments: [.rest("assignment", .assignment, required: true, abstract: "a name, '=', and an expression")],
            abstract: "set a variable to the value of an expression",
            discussion: """
            Evaluates the expression and stores its value (a number or true/false) under the name, \
            replacing any earlier value, including one a command set. Prints nothing. Expressions \
            have numbers, variables, + - * /, parentheses, comparisons (< <= > >= == != and ~= for \
            equal within 1e-6 relative), and, or, not, and the functions abs, min, max, exp, log, \
            sqrt and round (round(x, 2): to two decimals, for text). Division by zero and log or \
            sqrt outside their domain are errors.
            """,
            examples: ["let gap = logpx - elbo", "let ok = kl >= 0 and loss ~= -elbo"],
            printsResults: false,
            handler: letVariable
        ),

        CommandSpec(
            "assert", topic: .variables,
            arguments: [.rest("condition", .expression, required: true, abstract: "an expression that must be true")],
            abstract: "check that a condition holds; a failure is an error",
            discussion: """
            Evaluates the condition, which must be a comparison or another true/false expression. \
            When it is false the command fails with the condition and the values of its variables, \
            e.g. "assertion failed: kl >= 0 (kl = -0.3)", which stops a script unless --keep-going. \
            Prints nothing when it holds, except under vaesh --step, where it shows ✓ and the \
            condition. a ~= b is true when |a - b| <= 1e-6 * max(|a|, |b|), with a floor of 1e-12 \
            so that comparing with 0 accepts only round-off.
            """,
            examples: ["assert kl >= 0", "assert loss ~= -elbo", "assert elbo <= logpx + 3 * logpx_se"],
            printsResults: false,
            handler: assertCondition
        ),

        CommandSpec(
            "vars", topic: .variables,
            abstract: "list the variables with their values and units",
            discussion: """
            Lists every variable, sorted by name: those set with let and those set by commands \
            that computed a quantity (with its unit). Under --json it prints \
            {"command":"vars","variables":{"name":value,…}}.
            """,
            examples: ["vars"],
            handler: listVariables
        ),
    ]

    // MARK: - Handlers

    private static func echoText(_ context: CommandContext) throws(ScriptError) {
        let template = try context.arguments.template("text")
        try context.session.requireCurrent(template.variableReferences)
        let text = try template.render(context.session.variableValues)
        // The user's prose: wrapped as a paragraph, not as a report's continued line.
        var report = Report(command: "echo")
        report.addParagraph(text)
        report.addField("text", .string(text))
        context.report(report)
    }

    private static func letVariable(_ context: CommandContext) throws(ScriptError) {
        let assignment = try context.arguments.assignment("assignment")
        try context.session.requireCurrent(assignment.value.variableReferences)
        let value = try assignment.value.evaluate(context.session.variableValues)
        // A let is the user's snapshot (`let before = loss`, then train, then compare): it never
        // goes stale, though what it was computed from must have been current when it was taken.
        context.session.setVariable(assignment.name, value)
    }

    private static func assertCondition(_ context: CommandContext) throws(ScriptError) {
        let condition = try context.arguments.expression("condition")
        try context.session.requireCurrent(condition.expression.variableReferences)
        let variables = context.session.variableValues
        let value = try condition.expression.evaluate(variables)
        guard case .boolean(let holds) = value else {
            throw .typeMismatch("assert needs a condition such as 'kl >= 0', got \(value.kindDescription) (\(value.exactDescription))",
                                at: condition.expression.location)
        }
        if !holds {
            // Values that different commands set (an `elbo` from logpx's draws beside a `loss` from
            // loss's) say where each came from: that is usually why they disagree.
            let names = condition.expression.variableNames.filter { variables[$0] != nil }
            let origins = names.map { context.session.variables[$0]?.origin?.command }
            let showOrigins = Set(origins.compactMap { $0 }).count > 1
            let shown = zip(names, origins).compactMap { name, origin in
                variables[name].map { value in
                    VariableValue(name: name, value: value.exactDescription + (showOrigins ? origin.map { " from '\($0)'" } ?? "" : ""))
                }
            }
            throw .assertionFailed(expression: condition.text, values: shown, at: context.location)
        }
        if context.session.options.stepping {
            var report = Report.message(command: "assert", text: "✓ " + condition.text)
            report.addField("holds", .bool(true))
            context.report(report)
        }
    }

    private static func listVariables(_ context: CommandContext) throws(ScriptError) {
        let variables = context.session.variables.sorted { $0.key < $1.key }
        var report = Report(command: "vars")
        if variables.isEmpty {
            report.addText("no variables yet: 'let x = 1' sets one; commands set those they compute")
        } else {
            var table = TextTable(alignments: [.left, .left, .right, .left, .left], separator: " ")
            // Where a value came from goes under it when the line is short of room.
            table.wrappingColumns = [4]
            table.lastColumnMovesBelowUnder = 24
            for (name, variable) in variables {
                table.append([name, "=", variable.value.exactDescription, variable.unit ?? "", source(of: name, variable, context.session)])
            }
            report.addTable(table)
        }
        report.addField("variables", .object(variables.map { name, variable in
            switch variable.value {
            case .number(let number): (name, .number(number))
            case .boolean(let truth): (name, .bool(truth))
            }
        }))
        context.session.emit(report)
    }

    /// Where a value came from, for `vars`: "from 'elbo limit=50'", and "stale: …" once the model
    /// or data it describes has changed.
    private static func source(of name: String, _ variable: Variable, _ session: Session) -> String {
        guard let origin = variable.origin else { return "" }
        let from = "from '\(origin.command)'"
        guard let stale = session.staleness(of: name) else { return from }
        return from + " (stale: the \(stale.changed) has changed since)"
    }
}
