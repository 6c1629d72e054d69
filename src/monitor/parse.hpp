// Monitor command lines: splitting into arguments, finding the command (by full name
// or unique prefix), Tab completion over a command table, and the argument parsers
// whose failures print the contract's one-line "error: ..." messages.
#pragma once
#include "lib/fmt.hpp"
#include "lib/types.hpp"
#include "monitor/line_editor.hpp"

namespace monitor {

constexpr usize kMaxArgs = 16;

struct Args {
  usize argc;
  const char* argv[kMaxArgs];
};

enum class TokError { None, TooManyArgs, UnterminatedQuote };

// Splits `line` in place on spaces and tabs. Double quotes group words and may
// start or end inside a word, as in a shell (a"b c"d is one argument, `ab cd`);
// "" is an empty argument. There are no escapes, so a literal '"' cannot be
// written. An empty or blank line gives argc 0. On error out->argc is 0.
TokError tokenize(char* line, Args* out);

struct Command {
  const char* name;
  const char* usage;    // e.g. "<va> [len]"; "" for none
  const char* summary;  // one line for help
  int (*handler)(const Args& args);
  const char* const* keywords;  // nullptr-terminated first-argument completions, or nullptr
  bool panic_safe;              // read-only: allowed in the panic shell
  // Optional, for `help <cmd>`: a longer description with at least one example, lines
  // separated by '\n'. Last, so registrations that leave it out still compile.
  const char* help = nullptr;
  // Takes `-j` right after its name (contract: one JSON document on one line); the handler
  // asks monitor::json(). Registrations pass kJsonView here.
  bool json = false;
};

constexpr const char* kNoHelp = nullptr;
constexpr bool kJsonView = true;

enum class LookupError { None, Unknown, Ambiguous };

// An exact name wins, else a prefix matching exactly one command. The table need
// not be sorted. err may be null. A name with a '/' (`x/4gx`, `xp/i`) finds the command
// named by what comes before the '/', exactly; the handler reads the rest from argv[0].
const Command* lookup(const Command* table, usize n, const char* name, LookupError* err);

// Completions for line[word_start, cursor): command names for the first word,
// else the keywords of the (exact or unique-prefix) command for its first
// argument; nothing for later arguments. Returns the number stored in out.
usize complete_command(const Command* table, usize n, const char* line, usize word_start, usize cursor,
                       const char** out, usize max);

class TableCompleter final : public Completer {
 public:
  constexpr TableCompleter(const Command* table, usize n) : table_(table), n_(n) {}
  usize complete(const char* line, usize word_start, usize cursor, const char** out, usize max) override;

 private:
  const Command* table_;
  usize n_;
};

// argv[from..] joined with single spaces into buf (NUL-terminated, cut at cap - 1): a
// name that holds spaces, as C++ names do, given unquoted.
const char* join_args(const Args& a, usize from, char* buf, usize cap);

// Looks a symbol up by name (name[0, len), not NUL-terminated). On failure it prints
// its own one "error: " line to err, if err is given (unknown, ambiguous).
using SymbolResolver = bool (*)(const char* name, usize len, u64* addr, lib::Sink* err);

// An address expression: `<base>[+<offset>|-<offset>]`. The base is a hex number with or
// without 0x ("Commands accept addresses with or without 0x"; '_' and '`' digit
// separators allowed, lib::parse_u64) or, if it is not a number, a symbol name given to
// `resolve`; the offset is hex with or without 0x, like every address. A number wins
// over a symbol spelled like one (write `add+0` for a symbol named add). The last '+' or
// '-' splits base and offset. Over- or underflow is an error. On failure, if err is
// given, prints one "error: ..." line (e.g. "error: invalid address '<s>'").
[[nodiscard]] bool parse_address(const char* s, u64* out, lib::Sink* err, SymbolResolver resolve);
// The same with the resolver installed by set_symbol_resolver (none: numbers only).
[[nodiscard]] bool parse_address(const char* s, u64* out, lib::Sink* err = nullptr);
// The kernel installs its symbol table's lookup (kernel/ksyms) at start-up, so every
// command that takes an address takes `<symbol>[+<offset>]`.
void set_symbol_resolver(SymbolResolver resolve);
// Decimal, or hex with 0x. On failure, if err is given, prints
// "error: invalid number '<s>'\r\n".
[[nodiscard]] bool parse_count(const char* s, u64* out, lib::Sink* err = nullptr);

// The error lines for a failed tokenize() or lookup(); nothing for ::None.
// An ambiguous name lists the commands it could mean.
void print_error(lib::Sink& out, TokError e);
void print_lookup_error(lib::Sink& out, const Command* table, usize n, const char* name, LookupError e);

}  // namespace monitor
