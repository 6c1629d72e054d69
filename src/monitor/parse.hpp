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
};

enum class LookupError { None, Unknown, Ambiguous };

// An exact name wins, else a prefix matching exactly one command. The table need
// not be sorted. err may be null.
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

// Hex with or without 0x ("Commands accept addresses with or without 0x"); '_' and
// '`' digit separators are allowed (lib::parse_u64). On failure, if err is given,
// prints "error: invalid address '<s>'\r\n".
bool parse_address(const char* s, u64* out, lib::Sink* err = nullptr);
// Decimal, or hex with 0x. On failure, if err is given, prints
// "error: invalid number '<s>'\r\n".
bool parse_count(const char* s, u64* out, lib::Sink* err = nullptr);

// The error lines for a failed tokenize() or lookup(); nothing for ::None.
// An ambiguous name lists the commands it could mean.
void print_error(lib::Sink& out, TokError e);
void print_lookup_error(lib::Sink& out, const Command* table, usize n, const char* name, LookupError e);

}  // namespace monitor
