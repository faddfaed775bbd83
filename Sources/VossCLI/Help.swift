import VossBase

/// `ose -h`, `ose GROUP -h`, `ose GROUP COMMAND -h`: built from the command table and translated.
public enum Help {
    public static func text(for path: [String], _ t: Translator) -> String {
        if let spec = CommandTable.find(path) { return command(spec, t) }
        if path.count == 1, CommandTable.groups.contains(path[0]) { return group(path[0], t) }
        return overview(t)
    }

    static func optionLines(_ options: [OptionSpec], _ t: Translator) -> [String] {
        let left = options.map { o in ([o.name] + o.aliases).joined(separator: ", ") + (o.valueName.map { " " + $0 } ?? "") }
        let width = (left.map(DisplayWidth.of).max() ?? 0) + 2
        return zip(left, options).map { l, o in
            "  " + DisplayWidth.pad(l, to: width) + t(o.helpKey) + (o.required ? " " + t("help.required") : "")
        }
    }

    static func commandLines(_ specs: [CommandSpec], _ t: Translator) -> [String] {
        let left = specs.map { $0.usage.dropFirst(4) }.map(String.init)
        let width = min(52, (left.map(DisplayWidth.of).max() ?? 0) + 2)
        return zip(left, specs).map { l, s in
            DisplayWidth.of(l) >= width
                ? "  \(l)\n  \(String(repeating: " ", count: width))\(t(s.summaryKey))"
                : "  " + DisplayWidth.pad(l, to: width) + t(s.summaryKey)
        }
    }

    public static func overview(_ t: Translator) -> String {
        var lines = [t("help.title", VossVersion.current), "", t("help.usage"), "", t("help.commands")]
        lines += commandLines(CommandTable.commands, t)
        lines += ["", t("help.global_options")] + optionLines(CommandTable.global, t)
        lines += ["", t("help.secrets"), "", t("help.exit_codes")]
        lines += [
            "  0  \(t("exit.ok"))", "  1  \(t("exit.error"))", "  2  \(t("exit.usage"))", "  3  \(t("exit.unreachable"))",
            "  4  \(t("exit.unauthorized"))",
        ]
        lines += ["", t("help.environment"), "", t("help.files"), "", t("help.more")]
        return lines.joined(separator: "\n") + "\n"
    }

    public static func group(_ g: String, _ t: Translator) -> String {
        var lines = [t("help.group_title", g), ""]
        lines += commandLines(CommandTable.commands(inGroup: g), t)
        lines += ["", t("help.more")]
        return lines.joined(separator: "\n") + "\n"
    }

    public static func command(_ spec: CommandSpec, _ t: Translator) -> String {
        var lines = [t(spec.summaryKey), "", t("help.usage_line", spec.usage)]
        if !spec.options.isEmpty { lines += ["", t("help.options")] + optionLines(spec.options, t) }
        if spec.takesSecret { lines += ["", t("help.secrets")] }
        if !spec.examples.isEmpty { lines += ["", t("help.examples")] + spec.examples.map { "  " + $0 } }
        lines += ["", t("help.global_options")] + optionLines(CommandTable.global, t)
        return lines.joined(separator: "\n") + "\n"
    }
}
