//! The slash commands and how a line is parsed into one.

/// A parsed `/command`; arguments borrow the typed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command<'l> {
    Help,
    Reset,
    /// `/temp [X]`: show or set the temperature.
    Temp(&'l str),
    /// `/seed [N]`: show or set the seed.
    Seed(&'l str),
    Stats,
    /// `/system [TEXT]`: set (or with no text, clear) the system prompt.
    System(&'l str),
    Good,
    Bad,
    Better(&'l str),
    Export,
    Unknown(&'l str),
}

pub(crate) const HELP: &str = "\
commands:
  /help           this list
  /reset          forget the conversation (the system prompt stays)
  /temp [X]       show or set the sampling temperature (0 = greedy)
  /seed [N]       show or set the sampling seed
  /stats          speed of the last turn, memory and context use
  /system [TEXT]  set the system prompt (empty: none) and reset
  /good, /bad     rate the last reply
  /better TEXT    give the reply the last one should have been
  /export         print the feedback as JSONL
keys: Backspace erases, Ctrl-C clears the line or stops a reply, Ctrl-D on an empty line quits
";

/// `line` starts with `/`.
pub(crate) fn parse(line: &str) -> Command<'_> {
    let (name, arg) = match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], line[i..].trim()),
        None => (line, ""),
    };
    match name {
        "/help" | "/?" => Command::Help,
        "/reset" => Command::Reset,
        "/temp" => Command::Temp(arg),
        "/seed" => Command::Seed(arg),
        "/stats" => Command::Stats,
        "/system" => Command::System(arg),
        "/good" => Command::Good,
        "/bad" => Command::Bad,
        "/better" => Command::Better(arg),
        "/export" => Command::Export,
        _ => Command::Unknown(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arguments() {
        assert_eq!(parse("/temp  0.5 "), Command::Temp("0.5"));
        assert_eq!(parse("/better\tsay hi"), Command::Better("say hi"));
        assert_eq!(parse("/system"), Command::System(""));
        assert_eq!(parse("/nope x"), Command::Unknown("/nope"));
    }
}
