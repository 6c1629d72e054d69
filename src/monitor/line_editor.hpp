// A line editor for the serial monitor, fed one received byte at a time. It echoes
// and redraws through a lib::Sink with VT100/ANSI sequences, keeps a history ring and
// asks a Completer for Tab completion. No heap: every buffer is a fixed array in the
// object, so the panic shell can use it with nothing else working.
//
// Keys: printable ASCII inserts at the cursor; Enter is '\r' or '\n' (the second
// byte of a "\r\n" or "\n\r" pair is swallowed, so terminals sending either do not
// produce an empty extra line); DEL/^H backspace; ^U kill the line; ^W kill the word
// before the cursor; ^C cancel; ^A/Home, ^E/End; left/right (with Ctrl: by word);
// Delete; up/down history; Tab completion; ^L clear screen and redraw. Every other
// control byte, NUL and every byte >= 0x80 is ignored (7-bit ASCII only).
//
// Escape sequences are consumed whole and never echoed or inserted:
//   ESC [ <0x20-0x3f>* <0x40-0x7e>   CSI; bodies longer than kMaxSeq bytes are not
//                                    interpreted but still consumed to their final
//                                    byte, so the tail of a long one is never typed
//   ESC O <0x20-0x3f>* <0x40-0x7e>   SS3 (H F A B C D without parameters)
//   ESC <0x20-0x2f>* <0x30-0x7e>     two-byte (and nF) escapes: all ignored
// A byte that cannot continue the sequence (a control byte or >= 0x7f) abandons
// it and is itself dropped, except ESC, which starts a new sequence. Dropping it
// rather than acting on it means a stray ESC can swallow one Enter or ^C, which the
// user simply repeats; acting on it would risk running half a sequence as keys.
//
// Display assumption: the prompt plus the line fit on one terminal row. Longer
// lines are still edited correctly in the buffer, but cursor movement across a
// terminal wrap may be shown wrongly (the serial console has no way to learn the
// width without a query/answer round trip).
#pragma once
#include "lib/fmt.hpp"
#include "lib/types.hpp"

namespace monitor {

// Longest line accepted, in characters (the NUL is extra).
constexpr usize kMaxLine = 256;
// Lines kept in the history ring.
constexpr usize kHistorySize = 32;

// Supplies Tab completions. `line` is the whole NUL-terminated line; the word being
// completed is line[word_start, cursor). Stores at most `max` pointers to candidate
// full words (each starting with that word, no spaces, must stay valid until the
// call returns to the editor) and returns how many it stored.
class Completer {
 public:
  virtual usize complete(const char* line, usize word_start, usize cursor, const char** out, usize max) = 0;

 protected:
  // Not virtual and protected: never deleted through the base, and a virtual
  // destructor would drag operator delete into the freestanding kernel.
  ~Completer() = default;
};

class LineEditor {
 public:
  enum class Result { None, Line, Cancel };

  static constexpr usize kMaxLine = monitor::kMaxLine;
  static constexpr usize kHistory = kHistorySize;
  // Longest CSI/SS3 body (parameter and intermediate bytes) that is interpreted.
  static constexpr usize kMaxSeq = 16;
  // Completion candidates considered per Tab.
  static constexpr usize kMaxCandidates = 64;

  // constexpr so a global editor is constant-initialized (no static constructor).
  constexpr LineEditor(lib::Sink& out, Completer* completer /* may be null */) : out_(out), completer_(completer) {}
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // Prints the prompt and starts an empty line. The prompt is kept by pointer (for
  // redraws) and must stay valid until the next start().
  void start(const char* prompt);

  // Processes one received byte. Line: the line is complete, read it with line().
  // Cancel: ^C dropped the line. After either, call start() for the next line;
  // feeding without it starts a new line without printing a prompt.
  Result feed(u8 byte);

  // The current line, NUL-terminated; after Result::Line it is the entered line,
  // valid until the next start() (or the next feed() if start() is skipped).
  const char* line() const { return buf_; }
  usize length() const { return len_; }
  usize cursor() const { return cur_; }

  usize history_size() const { return hist_count_; }
  // 0 = newest; nullptr when i >= history_size().
  const char* history_at(usize i) const;

 private:
  enum class Esc : u8 { None, Esc, Inter, Csi, Ss3 };

  void reset_line();
  void feed_escape(u8 b);
  void on_csi(u8 final_byte);
  void on_ss3(u8 final_byte);
  Result on_enter(u8 b);

  bool insert(const char* s, usize n);
  void delete_range(usize from, usize to);
  void set_line(const char* s);
  void move_to(usize pos);
  void redraw_tail(usize old_len);
  void redraw_all();
  void move_left(usize n);
  void move_right(usize n);
  void bell();

  void word_left();
  void word_right();
  void history_up();
  void history_down();
  void add_history();
  void complete();

  lib::Sink& out_;
  Completer* completer_;
  const char* prompt_ = "";

  char buf_[kMaxLine + 1] = {};
  usize len_ = 0;
  usize cur_ = 0;
  bool done_ = false;  // a Line/Cancel was returned and start() has not run yet
  u8 last_enter_ = 0;  // '\r' or '\n' if the previous byte was an Enter

  Esc esc_ = Esc::None;
  u8 seq_[kMaxSeq] = {};
  usize seq_len_ = 0;
  bool seq_overlong_ = false;

  char hist_[kHistory][kMaxLine + 1] = {};
  usize hist_count_ = 0;
  usize hist_next_ = 0;            // slot the next entry goes to
  usize hist_pos_ = 0;             // 0: editing the live line; k: showing history_at(k - 1)
  char saved_[kMaxLine + 1] = {};  // the live line while browsing history
};

}  // namespace monitor
